package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"sargo/internal/atomicfile"
)

// truncateMetrics keeps the lines of the metrics file at path up to step
// (inclusive), so that a resumed run does not repeat the lines written
// after its checkpoint. A torn last line (a write cut short by a full
// disk or a power loss: no newline at its end, or not a JSON object) is
// dropped with a warning on warn; a bad line before the last one is an
// error. The file is rewritten atomically, so a crash while resuming
// cannot lose the lines kept.
func truncateMetrics(path string, step int, warn io.Writer) error {
	buf, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read metrics: %w", err)
	}
	lines := bytes.SplitAfter(buf, []byte{'\n'})
	var out bytes.Buffer
	for i, raw := range lines {
		text := bytes.TrimSpace(raw)
		if len(text) == 0 {
			continue
		}
		var m Metric
		err := json.Unmarshal(text, &m)
		last := i == len(lines)-1 || (i == len(lines)-2 && len(lines[len(lines)-1]) == 0)
		torn := !bytes.HasSuffix(raw, []byte{'\n'})
		switch {
		case last && (torn || err != nil):
			if warn != nil {
				fmt.Fprintf(warn, "warning: %s: dropped its torn last line %d (%d bytes, %q): the write was cut short\n",
					path, i+1, len(raw), shorten(text))
			}
			continue
		case err != nil:
			return fmt.Errorf("metrics %s line %d: %w", path, i+1, err)
		}
		if m.Step <= step {
			out.Write(text)
			out.WriteByte('\n')
		}
	}
	return atomicfile.WriteFile(path, out.Bytes())
}

// shorten cuts b to 40 bytes for a message.
func shorten(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
