package dist

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// Stamp is a trace time: milliseconds since the trace began.
type Stamp float64

// bucketTimes are the moments of one bucket in one step.
type bucketTimes struct {
	Ready  Stamp // local replica 0 had copied its gradients
	Posted Stamp // the sum over the world had started
	Done   Stamp // the sum had arrived
}

// BucketTrace is one bucket of one step.
type BucketTrace struct {
	Bucket int   `json:"bucket"`
	Bytes  int   `json:"bytes"`
	Ready  Stamp `json:"ready_ms"`
	Posted Stamp `json:"posted_ms"`
	Done   Stamp `json:"done_ms"`
}

// StepTrace is one step of local replica 0: its backward pass, when the
// averaged gradients were all back, and every bucket.
type StepTrace struct {
	Step          int           `json:"step"`
	Rank          int           `json:"rank"`
	BackwardStart Stamp         `json:"backward_start_ms"`
	BackwardEnd   Stamp         `json:"backward_end_ms"`
	Synced        Stamp         `json:"synced_ms"`
	Buckets       []BucketTrace `json:"buckets"`
}

// Trace records the timing of gradient buckets against the backward pass
// and writes one StepTrace per line (JSON) as steps finish. A nil *Trace
// records nothing.
type Trace struct {
	mu      sync.Mutex
	origin  time.Time
	out     *bufio.Writer
	pending map[int][]BucketTrace
	err     error
}

// NewTrace starts a trace written to w.
func NewTrace(w io.Writer) *Trace {
	return &Trace{origin: time.Now(), out: bufio.NewWriter(w), pending: map[int][]BucketTrace{}}
}

func (t *Trace) stamp() Stamp {
	if t == nil {
		return 0
	}
	return Stamp(float64(time.Since(t.origin).Nanoseconds()) / 1e6)
}

func (t *Trace) bucket(step, k, bytes int, bt bucketTimes) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending[step] = append(t.pending[step], BucketTrace{Bucket: k, Bytes: bytes, Ready: bt.Ready, Posted: bt.Posted, Done: bt.Done})
}

func (t *Trace) step(step, rank int, start, end, synced Stamp) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	bs := t.pending[step]
	delete(t.pending, step)
	sort.Slice(bs, func(i, j int) bool { return bs[i].Bucket < bs[j].Bucket })
	line, _ := json.Marshal(StepTrace{Step: step, Rank: rank, BackwardStart: start, BackwardEnd: end, Synced: synced, Buckets: bs})
	if _, err := t.out.Write(append(line, '\n')); err != nil && t.err == nil {
		t.err = err
	}
}

// Flush writes out what is buffered and returns the first write error.
func (t *Trace) Flush() error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.out.Flush(); err != nil && t.err == nil {
		t.err = err
	}
	return t.err
}

// ReadTrace decodes the StepTraces of a trace file.
func ReadTrace(r io.Reader) ([]StepTrace, error) {
	dec := json.NewDecoder(r)
	var out []StepTrace
	for dec.More() {
		var s StepTrace
		if err := dec.Decode(&s); err != nil {
			return out, fmt.Errorf("trace line %d: %w", len(out)+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// Overlap summarises steps. A step's communication time is the wall time
// during which at least one of its buckets was being summed over the
// ranks (from the start of the sum to its arrival, which includes waiting
// for the slowest rank to start it); the hidden part is the share of that
// time before the backward pass ended.
type Overlap struct {
	Steps   int
	Buckets int     // per step
	Bytes   int     // gradient bytes per step
	Comm    float64 // total communication time, ms
	Hidden  float64 // the part of Comm before the backward pass ended, ms
	Exposed float64 // total wait from backward end to synced, ms
	Compute float64 // total backward time, ms
}

// Fraction is Hidden/Comm, the share of communication hidden behind the
// backward pass (0 without communication).
func (o Overlap) Fraction() float64 {
	if o.Comm <= 0 {
		return 0
	}
	return o.Hidden / o.Comm
}

// Summarize computes the overlap of steps, skipping the first skip steps
// (warm-up).
func Summarize(steps []StepTrace, skip int) Overlap {
	var o Overlap
	for i, s := range steps {
		if i < skip {
			continue
		}
		o.Steps++
		o.Buckets = len(s.Buckets)
		o.Bytes = 0
		o.Compute += float64(s.BackwardEnd - s.BackwardStart)
		o.Exposed += float64(max(0, s.Synced-s.BackwardEnd))
		spans := make([][2]float64, 0, len(s.Buckets))
		for _, b := range s.Buckets {
			o.Bytes += b.Bytes
			spans = append(spans, [2]float64{float64(b.Posted), float64(b.Done)})
		}
		sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
		end := float64(s.BackwardEnd)
		for k := 0; k < len(spans); {
			lo, hi := spans[k][0], spans[k][1]
			for k++; k < len(spans) && spans[k][0] <= hi; k++ {
				hi = max(hi, spans[k][1])
			}
			o.Comm += hi - lo
			o.Hidden += max(0, min(hi, end)-lo)
		}
	}
	return o
}

// String is a one-line report.
func (o Overlap) String() string {
	if o.Steps == 0 {
		return "no steps traced"
	}
	n := float64(o.Steps)
	return fmt.Sprintf("%d steps, %d buckets (%.2f MiB) per step: backward %.1f ms/step; buckets in flight %.1f ms/step, %.0f%% of it during backward; wait after backward %.1f ms/step",
		o.Steps, o.Buckets, float64(o.Bytes)/(1<<20), o.Compute/n, o.Comm/n, 100*o.Fraction(), o.Exposed/n)
}
