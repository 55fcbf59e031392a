package tokenizer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// fingerprintPrefix starts every fingerprint, naming the hash.
const fingerprintPrefix = "sha256:"

// Fingerprint identifies the tokenizer's weights: "sha256:" and the
// SHA-256 of every parameter's name, shape and float32 values, in
// Parameters order. A transformer learns the token ids of one tokenizer;
// its checkpoint stores this fingerprint so that it is never used with
// another (which would decode noise).
func (m *VQ) Fingerprint() (string, error) {
	h := sha256.New()
	var buf []byte
	for _, p := range m.Parameters() {
		v, err := p.Var.Value.Read()
		if err != nil {
			return "", fmt.Errorf("tokenizer fingerprint: %s: %w", p.Name, err)
		}
		shape := make([]string, 0, p.Var.Value.Rank())
		for _, d := range p.Var.Value.Shape() {
			shape = append(shape, strconv.Itoa(d))
		}
		fmt.Fprintf(h, "%s %s\n", p.Name, strings.Join(shape, "x"))
		buf = buf[:0]
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
		}
		h.Write(buf)
	}
	return fingerprintPrefix + hex.EncodeToString(h.Sum(nil)), nil
}

// ShortFingerprint is the first 16 hex digits of a fingerprint, with its
// prefix, for messages.
func ShortFingerprint(fp string) string {
	if len(fp) > len(fingerprintPrefix)+16 {
		return fp[:len(fingerprintPrefix)+16]
	}
	return fp
}
