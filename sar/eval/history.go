package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// HistoryFile is the file in a run directory that holds the evaluations
// of its checkpoints, one JSON Point per line.
const HistoryFile = "eval.jsonl"

// Point is the evaluation of one checkpoint of a run. Epoch is on the
// axis of the whole protocol: a run initialised from another run's
// checkpoint continues that run's epochs.
type Point struct {
	Epoch float64 `json:"epoch"`
	Report
}

// AppendHistory appends p as one line to path.
func AppendHistory(path string, p Point) error {
	line, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("append history %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("append history: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("append history %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append history %s: %w", path, err)
	}
	return nil
}

// ReadHistory reads every point of path in file order.
func ReadHistory(path string) ([]Point, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	var out []Point
	sc := bufio.NewScanner(bytes.NewReader(buf))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var p Point
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, fmt.Errorf("history %s line %d: %w", path, line, err)
		}
		out = append(out, p)
	}
	return out, sc.Err()
}
