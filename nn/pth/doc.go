// Package pth reads and writes PyTorch checkpoints (the files of
// torch.save) without Python and without executing anything.
//
// It accepts:
//
//   - the zip format of torch.save since PyTorch 1.6: one top-level folder
//     (any name) holding data.pkl (the pickled object), data/<key> (one
//     raw little-endian storage per key), and optionally byteorder (must
//     say "little"), version (a format version from 1 to 10) and .data/*
//     records, which are checked or ignored. Storages must be stored
//     uncompressed, as torch.save writes them; each one's CRC-32 is checked.
//   - the legacy format of torch.save(_use_new_zipfile_serialization=False):
//     the magic-number, protocol and system-information pickles, the object
//     pickle, the pickled list of storage keys, then each storage as an
//     8-byte element count followed by its bytes.
//
// The pickle is read by a restricted unpickler that implements only the
// opcodes of pickle protocols 2 to 4 that a state dict and the plain data
// around it need (dicts, lists, tuples, strings, integers, floats, None,
// booleans, memo operations, persistent ids, REDUCE and BUILD), and
// resolves only these globals: collections.OrderedDict (an empty ordered
// dict; BUILD state such as _metadata is ignored),
// torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and
// _rebuild_parameter_with_state (a tensor view of a storage), and the
// typed storage classes torch.FloatStorage, HalfStorage, BFloat16Storage,
// LongStorage, DoubleStorage, IntStorage, ShortStorage, CharStorage,
// ByteStorage and BoolStorage (in persistent ids). Any other global is an
// error naming it. Nothing named by the file is ever called: globals only
// select one of these fixed constructions.
//
// Every size is checked before memory is allocated for it: the pickle's
// string and container lengths against the bytes left, each storage's
// declared element count against its record in the archive, and each
// tensor's offset, shape and strides against its storage. A truncated or
// inconsistent file is an error naming the problem.
//
// Tensors are returned with their dtype in safetensors' names (F32, F16,
// BF16, I64, F64, I32, I16, I8, U8, BOOL) and their data copied out
// contiguous and little-endian; converting them to float32 is the
// caller's choice. Write produces a zip-format file that torch.load reads.
//
// Layering: a file-format leaf under nn: it imports only internal
// utilities, never tensor, a backend or anything above nn.
package pth
