// Package strictjson decodes configuration files strictly: one JSON value,
// no field the destination does not have, and nothing after the value
// but white space.
//
// Layering: a leaf utility; it imports no package of the module.
package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Decode decodes the single JSON value in r into v. Unknown fields are an
// error, and so is anything after the value but white space (a second
// object, a stray brace), which a json.Decoder alone would leave unread.
func Decode(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return fmt.Errorf("after the JSON value at byte %d: %w", dec.InputOffset(), err)
	}
	return fmt.Errorf("trailing data after the JSON value: %.40s", extra)
}
