package reproduce

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"sargo/sar/eval"
	"sargo/sar/imgio"
)

// ReportFile is the report's file name in the output folder.
const ReportFile = "report.md"

// report draws the figures and writes report.md.
func (s *state) report(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r, err := s.load()
	if err != nil {
		return fmt.Errorf("reproduce report: %w", err)
	}
	err = s.timed("figures", func() error { return s.figures(r) })
	if err != nil {
		return fmt.Errorf("reproduce report: %w", err)
	}
	md := s.markdown(r)
	if err := imgio.WriteFileAtomic(filepath.Join(s.out, ReportFile), []byte(md)); err != nil {
		return fmt.Errorf("reproduce report: %w", err)
	}
	fmt.Fprintf(s.log, "\nwrote %s\n", filepath.Join(s.out, ReportFile))
	return nil
}

// CPUModel is the processor's model name from /proc/cpuinfo ("" when
// unknown).
func CPUModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// final is the last evaluation of a run.
func (r *results) final(run string) (eval.Point, bool) {
	h := r.history[run]
	if len(h) == 0 {
		return eval.Point{}, false
	}
	return h[len(h)-1], true
}

// markdown renders the report.
func (s *state) markdown(r *results) string {
	var b strings.Builder
	p := s.p
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# SAR reproduction: %s protocol\n\n", p.Name)
	w("- Command: `%s`\n", join(s.env.Command))
	w("- Machine: %s, %d logical CPUs, device %s (%s/%s, %s)\n", orUnknown(CPUModel()), runtime.NumCPU(), s.env.Dev.Name(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	w("- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	w("- Data: %s, %d training images for the transformer (%d steps of %d per epoch), %d test images\n",
		s.train.Name, s.train.Len(), s.spe, p.Preset.Train.Batch, s.test.Len())
	mc, tc := p.Preset.Model, s.vq.Cfg
	w("- Tokenizer: %dx%d images to a %dx%d latent, CVae %d, %d codes, %d training steps; transformer: depth %d, width %d, %d heads\n",
		tc.ImageSize, tc.ImageSize, tc.Latent(), tc.Latent(), tc.CVae, tc.Codebook, p.Preset.TokenizerTrain.Steps, mc.Depth, mc.Width, mc.Heads)
	w("- Protocol: N = %d epochs, k = %d; TF for N; SAR from scratch for N; SAR for k from TF's checkpoint at N - k (continuing TF's learning-rate schedule); naive SF for N. Peak lr %g, batch %d, random FlexVAR schedules, SAR rollout %q, sigma %g.\n",
		p.Epochs, p.PostEpochs, p.Preset.Train.LR, p.Preset.Train.Batch, p.Preset.Train.Rollout, p.Preset.Train.Sigma)
	w("- Metrics: %d samples per checkpoint (CFG 1.5, full-vocabulary sampling, VAR-like schedule) against %d test images. **FID, IS, precision and recall are computed on the features of sargo's own classifier** (a 3-conv CNN trained on the full training split, test accuracy %.2f%%; real test images score IS %.3f under it), not on Inception: they are comparable only with each other.\n",
		p.EvalN, s.ref.Emb.N, 100*s.clf.TestAccuracy, s.ref.IS)
	w("- Tokenizer on %d test images: reconstruction loss (L1 + L2) %.4f, codebook usage %.1f%% at the %dx%d scale.\n",
		p.TokenizerImages, s.recon, 100*s.usage, tc.Latent(), tc.Latent())
	w("\n## Results (final checkpoints)\n\n")
	w("| method | epochs | FID (sargo classifier) | accuracy | IS | precision | recall | images/s | parameters |\n")
	w("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, run := range r.runs {
		f, _ := r.final(run)
		epochs := fmt.Sprintf("%g", f.Epoch)
		if run == RunTFSAR {
			epochs = fmt.Sprintf("%d TF + %d SAR", p.Epochs-p.PostEpochs, p.PostEpochs)
		}
		w("| %s | %s | %.3f | %.4f | %.3f | %.4f | %.4f | %.1f | %.2fM |\n", Label(run), epochs, f.FID, f.Accuracy, f.IS, f.Precision, f.Recall, f.ImagesPerS, float64(f.Params)/1e6)
	}
	w("\n%s\n", s.verdict(r))
	w("\n## Every evaluated checkpoint\n\n")
	w("| method | epoch | step | FID | accuracy | IS | precision | recall |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, run := range r.runs {
		for _, pt := range r.history[run] {
			w("| %s | %g | %d | %.3f | %.4f | %.3f | %.4f | %.4f |\n", Label(run), pt.Epoch, pt.Step, pt.FID, pt.Accuracy, pt.IS, pt.Precision, pt.Recall)
		}
	}
	w("\n(The first SAR (init TF) row is TF's own evaluation at epoch %d, the checkpoint SAR starts from.)\n", p.Epochs-p.PostEpochs)
	if len(r.sf) > 0 {
		w("\n## Student-forcing drift (Figure 5)\n\n")
		w("Mean |f_i - f^S_i| between ground-truth latents and student-forced predictions on 2 test images, for the last three scales. ")
		w("\"SSR\" is SAR's one-step rollout from the teacher's predictions; \"chained\" is naive student forcing, each step from the previous student prediction (the seed's Figure 5).\n\n")
		w("| model | rollout |")
		scales := r.sf[r.runs[0]].Scales
		for _, sc := range scales {
			w(" scale %d |", sc)
		}
		w("\n|---|---|%s\n", strings.Repeat("---:|", len(scales)))
		for _, run := range r.runs {
			res := r.sf[run]
			if res == nil {
				continue
			}
			for _, row := range []struct {
				name string
				v    []float64
			}{{"SSR (SAR)", res.MeanSSR}, {"chained (naive SF)", res.MeanChained}} {
				w("| %s | %s |", Label(run), row.name)
				for _, v := range row.v {
					w(" %.4f |", v)
				}
				w("\n")
			}
		}
	}
	w("\n## Figures\n\n")
	for _, fig := range []struct{ file, caption string }{
		{FigCurves, "Figure 1. FID (sargo classifier) against epoch."},
		{FigTradeoff, "Figure 2. Throughput against FID; bubble area by parameters."},
		{FigProcess, "Figure 3. Generation process of SAR and TF from the same 2x2 latent (scales 1 and 2 from the real image, captioned with its class); every later scale decoded."},
		{FigGrid, "Figure 4. Class-conditional samples of SAR (one row per class)."},
		{FigSF, "Figure 5. Per image: ground truth, TF input, SF input, SF prediction, |f - f^S| (chained student forcing) for the last three scales."},
	} {
		if _, err := os.Stat(filepath.Join(s.out, fig.file)); err == nil {
			w("![%s](%s)\n\n%s\n\n", fig.file, fig.file, fig.caption)
		}
	}
	w("Sample grids and student-forcing figures of the other runs: %s.\n", strings.Join(otherFigures(s.out), ", "))
	w("\n## Time\n\nWall-clock minutes of every phase (a resumed reproduction lists each attempt); the machine was shared with other jobs, so these are upper bounds.\n\n| phase | minutes |\n|---|---:|\n")
	total := 0.0
	for _, ph := range readPhases(filepath.Join(s.out, PhasesFile)) {
		w("| %s | %.1f |\n", ph.Name, ph.Seconds/60)
		total += ph.Seconds
	}
	w("| total | %.1f |\n", total/60)
	return b.String()
}

// readPhases reads PhasesFile (nil when missing or unreadable).
func readPhases(path string) []Phase {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []Phase
	for _, line := range strings.Split(string(raw), "\n") {
		var ph Phase
		if json.Unmarshal([]byte(line), &ph) == nil && ph.Name != "" {
			out = append(out, ph)
		}
	}
	return out
}

// otherFigures lists grid_*.png and sf_inputs_*.png in dir.
func otherFigures(dir string) []string {
	var out []string
	for _, pat := range []string{"grid_*.png", "sf_inputs_*.png"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range m {
			out = append(out, filepath.Base(f))
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// verdict states, from the numbers, whether SAR improved on TF.
func (s *state) verdict(r *results) string {
	tf, okTF := r.final(RunTF)
	if !okTF {
		return "TF was not run, so there is no baseline to compare with."
	}
	var lines []string
	for _, run := range []string{RunTFSAR, RunSAR, RunSF} {
		f, ok := r.final(run)
		if !ok {
			continue
		}
		d := f.FID - tf.FID
		word := "better (lower)"
		if d >= 0 {
			word = "worse (higher)"
		}
		lines = append(lines, fmt.Sprintf("- %s at epoch %g: FID %.3f against TF's %.3f at epoch %g: %s by %.3f (%.1f%%); class accuracy %.4f vs %.4f.",
			Label(run), f.Epoch, f.FID, tf.FID, tf.Epoch, word, abs(d), 100*abs(d)/max(tf.FID, 1e-9), f.Accuracy, tf.Accuracy))
	}
	lines = append(lines, fmt.Sprintf("\nWith %d samples per evaluation the FID carries sampling noise; differences of a few percent are within it.", s.p.EvalN))
	return strings.Join(lines, "\n")
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown CPU"
	}
	return s
}
