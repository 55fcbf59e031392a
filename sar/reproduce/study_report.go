package reproduce

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"sargo/sar/eval"
	"sargo/sar/imgio"
	"sargo/sar/viz"
)

// The figures of a study's report.
const (
	FigBaseLoss = "fig_base_loss.png"
	FigExposure = "fig_exposure.png"
)

// studyMetric is one number compared across a study's runs.
type studyMetric struct {
	Key, Label string
	Get        func(*eval.Report) float64
}

// studyMetrics are the compared numbers: the sample metrics on sargo's
// classifier and the exposure bias (nats per token).
var studyMetrics = []studyMetric{
	{"fid", "FID (" + eval.FeatureName + ")", func(r *eval.Report) float64 { return r.FID }},
	{"accuracy", "accuracy", func(r *eval.Report) float64 { return r.Accuracy }},
	{"is", "IS", func(r *eval.Report) float64 { return r.IS }},
	{"precision", "precision", func(r *eval.Report) float64 { return r.Precision }},
	{"recall", "recall", func(r *eval.Report) float64 { return r.Recall }},
	{"ce_gt", "held-out CE", func(r *eval.Report) float64 { return exposureOf(r).MeanGT }},
	{"gap_ssr", "gap SSR", func(r *eval.Report) float64 { return exposureOf(r).MeanGapSSR }},
	{"gap_chained", "gap chained", func(r *eval.Report) float64 { return exposureOf(r).MeanGapChained }},
}

// exposureOf is r's exposure bias, or NaNs when it has none.
func exposureOf(r *eval.Report) *eval.Exposure {
	if r.Exposure == nil {
		n := math.NaN()
		return &eval.Exposure{MeanGT: n, MeanGapSSR: n, MeanGapChained: n}
	}
	return r.Exposure
}

// RunResult is one evaluated post-training run.
type RunResult struct {
	postRun
	Report *eval.Report `json:"report"`
}

// Comparison is a Welch t-test of one metric between two method groups
// (A − B) over their seeds.
type Comparison struct {
	Method   string `json:"method"`
	Baseline string `json:"baseline"`
	Metric   string `json:"metric"`
	Welch
}

// StudyResults is study_results.json: every number of the report.
type StudyResults struct {
	Study     string       `json:"study"`
	Preset    string       `json:"preset"`
	Base      baseResult   `json:"base"`
	BaseEval  *eval.Report `json:"base_eval,omitempty"`
	PostSteps int          `json:"post_steps"`
	LRFirst   float64      `json:"lr_first"`
	LRLast    float64      `json:"lr_last"`
	Runs      []RunResult  `json:"runs"`
	// Groups holds, per method group, the mean and standard deviation of
	// every metric over the seeds.
	Groups  map[string]map[string]Summary `json:"groups"`
	Tests   []Comparison                  `json:"tests"`
	Verdict string                        `json:"verdict"`
}

// groupLabel names a method group in tables.
func groupLabel(g string) string {
	switch g {
	case GroupTF:
		return "TF continued"
	case GroupSAR:
		return "SAR post-training"
	case GroupSF:
		return "naive SF post-training"
	}
	return g
}

// readReport reads an evaluation written by evaluate (nil when missing).
func readReport(path string) (*eval.Report, error) {
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r eval.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// results gathers everything evaluated so far.
func (ss *studyState) results() (*StudyResults, error) {
	res := &StudyResults{Study: ss.st.Name, Preset: ss.st.Preset.Name, Groups: map[string]map[string]Summary{}}
	raw, err := os.ReadFile(filepath.Join(ss.workDir(baseDir), doneFile))
	if err != nil {
		return nil, fmt.Errorf("the base run has not finished: %w", err)
	}
	if err := json.Unmarshal(raw, &res.Base); err != nil {
		return nil, err
	}
	if res.BaseEval, err = readReport(filepath.Join(ss.dir, EvalDir, BaseName+".json")); err != nil {
		return nil, err
	}
	res.PostSteps = ss.st.postSteps(res.Base.Steps)
	runs := ss.st.runs()
	cfg := ss.postConfig(runs[0], res.Base)
	sched, from := cfg.Rates(cfg.Steps)
	res.LRFirst, res.LRLast = sched.LR(from), sched.LR(from+cfg.Steps-1)
	byGroup := map[string][]*eval.Report{}
	for _, r := range runs {
		rep, err := readReport(filepath.Join(ss.dir, EvalDir, r.Name+".json"))
		if err != nil {
			return nil, err
		}
		if rep == nil {
			continue
		}
		res.Runs = append(res.Runs, RunResult{postRun: r, Report: rep})
		if r.Group != "" {
			byGroup[r.Group] = append(byGroup[r.Group], rep)
		}
	}
	values := func(g string, m studyMetric) []float64 {
		var v []float64
		for _, r := range byGroup[g] {
			v = append(v, m.Get(r))
		}
		return v
	}
	for g := range byGroup {
		res.Groups[g] = map[string]Summary{}
		for _, m := range studyMetrics {
			res.Groups[g][m.Key] = Summarize(values(g, m))
		}
	}
	for _, other := range []string{GroupSAR, GroupSF} {
		for _, m := range studyMetrics {
			w, err := WelchTest(values(other, m), values(GroupTF, m))
			if err != nil {
				continue
			}
			res.Tests = append(res.Tests, Comparison{Method: other, Baseline: GroupTF, Metric: m.Key, Welch: w})
		}
	}
	res.Verdict = verdict(res, len(ss.st.Seeds))
	return res, nil
}

// test is the comparison of a metric between a group and TF, if made.
func (r *StudyResults) test(group, metric string) (Comparison, bool) {
	for _, c := range r.Tests {
		if c.Method == group && c.Metric == metric {
			return c, true
		}
	}
	return Comparison{}, false
}

// verdict states in one sentence what the SAR-versus-TF comparison shows,
// from FID and the chained exposure gap at the 5% level.
func verdict(r *StudyResults, seeds int) string {
	fid, ok1 := r.test(GroupSAR, "fid")
	gap, ok2 := r.test(GroupSAR, "gap_chained")
	if !ok1 || !ok2 {
		return "Not enough evaluated runs yet to compare SAR post-training with TF continued."
	}
	word := func(c Comparison) string {
		switch {
		case c.P >= 0.05:
			return "not significantly different from"
		case c.A.Mean < c.B.Mean:
			return "significantly lower than"
		default:
			return "significantly higher than"
		}
	}
	return fmt.Sprintf("After %d post-training steps from the same TF checkpoint (%d seeds each), SAR's FID (%.3f ± %.3f) is %s TF continued's (%.3f ± %.3f; Welch p = %.3g) and its chained exposure gap (%.4f ± %.4f nats/token) is %s TF continued's (%.4f ± %.4f; p = %.3g) at the 5%% level.",
		r.PostSteps, seeds, fid.A.Mean, fid.A.SD, word(fid), fid.B.Mean, fid.B.SD, fid.P,
		gap.A.Mean, gap.A.SD, word(gap), gap.B.Mean, gap.B.SD, gap.P)
}

// report writes study_results.json, the figures and report.md.
func (ss *studyState) report(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	res, err := ss.results()
	if err != nil {
		return fmt.Errorf("study report: %w", err)
	}
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("study report: %w", err)
	}
	if err := imgio.WriteFileAtomic(filepath.Join(ss.dir, ResultsFile), append(raw, '\n')); err != nil {
		return fmt.Errorf("study report: %w", err)
	}
	if err := ss.studyFigures(res); err != nil {
		return fmt.Errorf("study report: %w", err)
	}
	if err := imgio.WriteFileAtomic(filepath.Join(ss.dir, ReportFile), []byte(ss.studyMarkdown(res))); err != nil {
		return fmt.Errorf("study report: %w", err)
	}
	fmt.Fprintf(ss.log, "\nwrote %s\n%s\n", filepath.Join(ss.dir, ReportFile), res.Verdict)
	return nil
}

// groupExposure is a group's exposure bias per scale: the mean over its
// seeds, with the standard error of that mean.
func groupExposure(res *StudyResults, group string) (viz.ExposureSeries, bool) {
	var es []*eval.Exposure
	for _, r := range res.Runs {
		if r.Group == group && r.Report.Exposure != nil {
			es = append(es, r.Report.Exposure)
		}
	}
	if len(es) == 0 {
		return viz.ExposureSeries{}, false
	}
	s := viz.ExposureSeries{Name: groupLabel(group), Scales: es[0].Scales}
	for k := range s.Scales {
		var a, b []float64
		for _, e := range es {
			a, b = append(a, e.GapSSR[k]), append(b, e.GapChained[k])
		}
		sa, sb := Summarize(a), Summarize(b)
		n := math.Sqrt(float64(len(es)))
		s.GapSSR, s.SESSR = append(s.GapSSR, sa.Mean), append(s.SESSR, sa.SD/n)
		s.GapChained, s.SEChained = append(s.GapChained, sb.Mean), append(s.SEChained, sb.SD/n)
	}
	return s, true
}

// studyFigures draws the base run's held-out loss and the exposure bias
// per scale of every method group.
func (ss *studyState) studyFigures(res *StudyResults) error {
	sr := viz.Series{Name: "TF base, held-out loss"}
	for _, v := range res.Base.Val {
		sr.X, sr.Y = append(sr.X, float64(v.Step)), append(sr.Y, v.Loss)
	}
	title := fmt.Sprintf("TF base run (%s study): held-out cross-entropy", ss.st.Name)
	if err := viz.Curves(filepath.Join(ss.dir, FigBaseLoss), title, "step", "nats per token", []viz.Series{sr}, 7, 4.5); err != nil {
		return err
	}
	var series []viz.ExposureSeries
	for _, g := range []string{GroupTF, GroupSAR, GroupSF} {
		if s, ok := groupExposure(res, g); ok {
			series = append(series, s)
		}
	}
	if len(series) == 0 {
		return nil
	}
	title = fmt.Sprintf("Exposure bias after %d post-training steps (mean over seeds ± s.e.)", res.PostSteps)
	return viz.Exposure(filepath.Join(ss.dir, FigExposure), title, series, 7, 4.5)
}

// studyMarkdown renders the report.
func (ss *studyState) studyMarkdown(res *StudyResults) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	st := ss.st
	p := st.Preset
	w("# SAR reproduction with power: %s preset\n\n", st.Name)
	w("- Preset: `%s` (`sargo reproduce --preset %s`; the `mini` preset is the quick smoke run)\n", st.Name, st.Name)
	w("- Command: `%s`\n", join(ss.env.Command))
	w("- Machine: %s, %d logical CPUs, device %s (%s/%s, %s)\n", orUnknown(CPUModel()), runtime.NumCPU(), ss.env.Dev.Name(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	w("- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	w("- Data: %s, %d training images for the transformer, %d test images\n", ss.train.Name, ss.train.Len(), ss.test.Len())
	tc, mc := ss.vq.Cfg, p.Model
	w("- Tokenizer: %dx%d images to a %dx%d latent, CVae %d, %d codes, %d training steps (reconstruction loss %.4f and codebook usage %.1f%% on %d test images); transformer: depth %d, width %d, %d heads, AdaLN gamma init %g\n",
		tc.ImageSize, tc.ImageSize, tc.Latent(), tc.Latent(), tc.CVae, tc.Codebook, p.TokenizerTrain.Steps, ss.recon, 100*ss.usage, st.TokenizerImages,
		mc.Depth, mc.Width, mc.Heads, mc.InitGamma)
	t := p.Train
	w("- Training: batch %d, peak lr %g, %s learning-rate schedule (floor %g of the peak), FlexVAR's random schedules (sampler %s), SAR teacher %s (CFG %g, top-k %d, top-p %g), sigma %g, rollout %q\n",
		t.Batch, t.LR, t.LRSchedule, t.LRFloor, t.ScheduleSampler, t.Teacher, t.TeacherCFG, t.TeacherTopK, t.TeacherTopP, t.Sigma, t.Rollout)
	w("- Metrics: %d samples per final checkpoint (CFG 1.5, full-vocabulary sampling, VAR-like schedule) against %d test images. **FID, IS, precision and recall are computed on the features of sargo's own classifier** (test accuracy %.2f%%; real test images score IS %.3f), not on Inception. The exposure bias is measured on %d test images: the cross-entropy at every scale given ground-truth inputs, the model's own one-step rollout (SSR) and its chained rollout; \"gap\" is the difference to ground-truth inputs, weighted by tokens (nats per token).\n",
		st.EvalN, ss.ref.Emb.N, 100*ss.clf.TestAccuracy, ss.ref.IS, st.ExposureImages)

	w("\n## Verdict\n\n%s\n", res.Verdict)

	w("\n## Base run (teacher forcing)\n\n")
	how := fmt.Sprintf("reached the cap of %d steps before the plateau rule fired", st.BaseSteps)
	if res.Base.Plateau {
		how = fmt.Sprintf("stopped by the plateau rule (the best of the last %d measurements less than %.1f%% below the best before them)", st.PlateauWindow, 100*st.PlateauDelta)
	}
	if h := st.horizon(); h < st.BaseSteps {
		how = fmt.Sprintf("a learning-rate schedule of %d steps, then on at its floor; %s", h, how)
	}
	last := res.Base.Val[len(res.Base.Val)-1]
	w("Trained for %d steps (%s); held-out cross-entropy %.4f nats per token on %d test images at the end.\n\n", res.Base.Steps, how, last.Loss, st.ValImages)
	w("| step | held-out CE |\n|---:|---:|\n")
	for _, v := range res.Base.Val {
		w("| %d | %.4f |\n", v.Step, v.Loss)
	}
	if r := res.BaseEval; r != nil {
		e := exposureOf(r)
		w("\nThe base checkpoint: FID %.3f, accuracy %.4f, IS %.3f, precision %.4f, recall %.4f; exposure gap SSR %+.4f, chained %+.4f.\n",
			r.FID, r.Accuracy, r.IS, r.Precision, r.Recall, e.MeanGapSSR, e.MeanGapChained)
	}

	w("\n## Post-training from the base checkpoint (%d seeds per method)\n\n", len(st.Seeds))
	w("Every run: %d steps (%.0f%% of the base run), a fresh AdamW, the learning rate continuing the base run's schedule from %.3g to %.3g without warm-up; the seed sets data order, schedules, condition dropout, teacher draws and the evaluation's samples. Mean ± standard deviation over seeds %v:\n\n",
		res.PostSteps, 100*st.PostFrac, res.LRFirst, res.LRLast, st.Seeds)
	w("| method | runs |")
	for _, m := range studyMetrics {
		w(" %s |", m.Label)
	}
	w("\n|---|---:|%s\n", strings.Repeat("---:|", len(studyMetrics)))
	for _, g := range []string{GroupTF, GroupSAR, GroupSF} {
		gs, ok := res.Groups[g]
		if !ok {
			continue
		}
		w("| %s | %d |", groupLabel(g), gs["fid"].N)
		for _, m := range studyMetrics {
			w(" %s |", gs[m.Key])
		}
		w("\n")
	}
	w("\nWelch t-tests against TF continued (difference = method − TF):\n\n| comparison | metric | difference | t | df | p |\n|---|---|---:|---:|---:|---:|\n")
	for _, c := range res.Tests {
		w("| %s vs TF | %s | %+.4g | %.3f | %.2f | %.3g |\n", groupLabel(c.Method), c.Metric, c.A.Mean-c.B.Mean, c.T, c.DF, c.P)
	}

	if len(res.Runs) > 0 {
		w("\n## Exposure bias per scale (mean over seeds)\n\n| method |")
		var groups []viz.ExposureSeries
		for _, g := range []string{GroupTF, GroupSAR, GroupSF} {
			if s, ok := groupExposure(res, g); ok {
				groups = append(groups, s)
			}
		}
		if len(groups) > 0 {
			for _, s := range groups[0].Scales {
				w(" scale %d |", s)
			}
			w("\n|---|%s\n", strings.Repeat("---:|", len(groups[0].Scales)))
			for _, s := range groups {
				for _, part := range []struct {
					name string
					v    []float64
				}{{"chained", s.GapChained}, {"SSR", s.GapSSR}} {
					w("| %s, gap %s |", s.Name, part.name)
					for _, v := range part.v {
						w(" %+.4f |", v)
					}
					w("\n")
				}
			}
		}
	}

	sigmas, rollouts := st.sweep()
	w("\n## Sweep of SAR's sigma and rollout (seed %d)\n\n", st.Seeds[0])
	w("| sigma | rollout | FID | accuracy | IS | precision | recall | held-out CE | gap SSR | gap chained |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	shown := map[string]bool{}
	for _, r := range append(sigmas, rollouts...) {
		if shown[r.Name] {
			continue
		}
		shown[r.Name] = true
		rep, _ := readReport(filepath.Join(ss.dir, EvalDir, r.Name+".json"))
		if rep == nil {
			continue
		}
		e := exposureOf(rep)
		w("| %g | %s | %.3f | %.4f | %.3f | %.4f | %.4f | %.4f | %+.4f | %+.4f |\n", r.Sigma, r.Rollout, rep.FID, rep.Accuracy, rep.IS,
			rep.Precision, rep.Recall, e.MeanGT, e.MeanGapSSR, e.MeanGapChained)
	}

	w("\n## Every run\n\n| run | method | seed | sigma | rollout | FID | accuracy | IS | precision | recall | gap SSR | gap chained |\n|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range res.Runs {
		rep, e := r.Report, exposureOf(r.Report)
		w("| %s | %s | %d | %g | %s | %.3f | %.4f | %.3f | %.4f | %.4f | %+.4f | %+.4f |\n", r.Name, r.Method, r.Seed, r.Sigma, r.Rollout,
			rep.FID, rep.Accuracy, rep.IS, rep.Precision, rep.Recall, e.MeanGapSSR, e.MeanGapChained)
	}

	w("\n## Figures and files\n\n")
	for _, fig := range []struct{ file, caption string }{
		{FigBaseLoss, "Held-out cross-entropy of the TF base run."},
		{FigExposure, "Exposure bias per scale: cross-entropy gap of the chained (solid) and one-step SSR (dashed) rollouts to ground-truth inputs, mean over seeds ± standard error."},
	} {
		if _, err := os.Stat(filepath.Join(ss.dir, fig.file)); err == nil {
			w("![%s](%s)\n\n%s\n\n", fig.file, fig.file, fig.caption)
		}
	}
	w("`%s/NAME.png` holds %d samples per class of every final checkpoint (one row per class, as `sargo sample --n %d --scale 1` writes them); `%s/NAME.json` its evaluation (`sargo eval --json` format, with the exposure bias per scale); `%s` every number above.\n",
		GridDir, st.GridPerClass, st.GridPerClass, EvalDir, ResultsFile)

	w("\n## Time\n\nWall-clock minutes of every phase (a resumed study lists each attempt).\n\n| phase | minutes |\n|---|---:|\n")
	total := 0.0
	for _, ph := range readPhases(filepath.Join(ss.out, PhasesFile)) {
		w("| %s | %.1f |\n", ph.Name, ph.Seconds/60)
		total += ph.Seconds
	}
	w("| total | %.1f |\n", total/60)
	return b.String()
}
