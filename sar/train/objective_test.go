package train

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/autograd"
	"sargo/sar/schedule"
	"sargo/tensor"
)

func TestPlanRollout(t *testing.T) {
	scales := schedule.Schedule{1, 2, 3, 4, 6}
	tests := []struct {
		rollout     string
		transitions []int
		pass2       schedule.Schedule
		tokens      int
	}{
		{"last", []int{4}, schedule.Schedule{1, 6}, 36},
		{"last:2", []int{3, 4}, schedule.Schedule{1, 4, 6}, 16 + 36},
		{"all", []int{1, 2, 3, 4}, scales, 4 + 9 + 16 + 36},
		{"last:9", []int{1, 2, 3, 4}, scales, 4 + 9 + 16 + 36},
	}
	for _, tc := range tests {
		t.Run(tc.rollout, func(t *testing.T) {
			r, err := ParseRollout(tc.rollout)
			require.NoError(t, err)
			p := planRollout(r, scales)
			assert.Equal(t, tc.transitions, p.Transitions)
			assert.Equal(t, tc.pass2, p.Scales)
			assert.Equal(t, 1, p.Offset, "rolled-out tokens follow the start token")
			assert.Equal(t, tc.tokens, p.Tokens)
			assert.Equal(t, p.Offset+p.Tokens, p.Scales.Tokens())
		})
	}
	t.Run("one scale", func(t *testing.T) {
		p := planRollout(Rollout{All: true}, schedule.Schedule{4})
		assert.Empty(t, p.Transitions)
		assert.Zero(t, p.Tokens)
	})
}

func TestParseRolloutErrors(t *testing.T) {
	for _, s := range []string{"", "first", "last:0", "last:-1", "last:x", "all:2"} {
		_, err := ParseRollout(s)
		assert.Error(t, err, s)
	}
	for _, s := range []string{"last", "last:3", "all"} {
		r, err := ParseRollout(s)
		require.NoError(t, err)
		assert.Equal(t, s, r.String())
	}
}

// sarSetup is an objective over the fakes with the given rollout, sigma
// and teacher.
func sarSetup(t *testing.T, rollout string, sigma float32, teacherKind string) (Setup, *Objective) {
	cfg := DefaultConfig()
	cfg.Method, cfg.Rollout, cfg.Sigma, cfg.Teacher = MethodSAR, rollout, sigma, teacherKind
	cfg.TeacherTopK = 5
	s := fakeSetup(t, cfg)
	o, err := NewObjective(cfg, s.Net, s.Tok, s.NullClass)
	require.NoError(t, err)
	return s, o
}

var testScales = schedule.Schedule{1, 2, 3, 4}

func TestCSFLTargetsAreTeacherPredictions(t *testing.T) {
	for _, rollout := range []string{"last", "last:2", "all"} {
		t.Run(rollout, func(t *testing.T) {
			s, o := sarSetup(t, rollout, 1, TeacherArgmax)
			b := fakeBatch(t, s, 6, testScales)
			_, tr := o.sar(newGraph(t, s.Dev), b, 0)
			// The teacher's argmax over a no-grad teacher-forcing pass.
			zT := s.Net.Forward(nil, b.Labels, b.Scales, autograd.Const(b.Inputs)).Value
			offs := b.Scales.Offsets()
			var want, gt []*tensor.Tensor
			for _, j := range tr.Plan.Transitions {
				want = append(want, tensor.Argmax(zT.Narrow(1, offs[j], offs[j+1]-offs[j]), -1, false))
				gt = append(gt, b.IDs[j])
			}
			assert.Equal(t, tensor.Concat(1, want...).Data(), tr.Targets.Data(), "CSFL targets must be the teacher's ids")
			assert.NotEqual(t, tensor.Concat(1, gt...).Data(), tr.Targets.Data(), "targets should differ from ground truth for an untrained model")
			// SSR inputs: the teacher's ids one scale earlier, embedded and upsampled.
			var ins []*tensor.Tensor
			for _, j := range tr.Plan.Transitions {
				ids := tensor.Argmax(zT.Narrow(1, offs[j-1], offs[j]-offs[j-1]), -1, false)
				ins = append(ins, upsampleTokens(s.Tok.Embed(ids, b.Scales[j-1]), b.Scales[j]))
			}
			assert.Equal(t, tensor.Concat(1, ins...).Data(), tr.Inputs.Data())
			assert.Equal(t, []int{6, tr.Plan.Tokens}, tr.Targets.Shape())
		})
	}
}

func TestSigmaZeroIsTeacherForcing(t *testing.T) {
	s, o := sarSetup(t, "all", 0, TeacherArgmax)
	b := fakeBatch(t, s, 5, testScales)
	params := s.Net.Parameters()
	tf := grads(t, params, func(g *autograd.Graph) *autograd.Var { return o.teacherForcing(g, b).Total })
	sar := grads(t, params, func(g *autograd.Graph) *autograd.Var { l, _ := o.sar(g, b, 0); return l.Total })
	for name, want := range tf {
		assert.Equal(t, want, sar[name], "gradient of %s with sigma 0", name)
	}
}

// TestCSFLGradientFlowsOnlyThroughPass2 checks that the CSFL gradient is
// exactly that of a second pass on constant inputs and targets (so
// nothing reaches pass 1 through the teacher's ids), and that sigma
// scales it.
func TestCSFLGradientFlowsOnlyThroughPass2(t *testing.T) {
	for _, rollout := range []string{"last", "last:2", "all"} {
		t.Run(rollout, func(t *testing.T) {
			s, o := sarSetup(t, rollout, 1, TeacherArgmax)
			b := fakeBatch(t, s, 5, testScales)
			params := s.Net.Parameters()
			tf := grads(t, params, func(g *autograd.Graph) *autograd.Var { return o.teacherForcing(g, b).Total })
			var tr sarTrace
			full := map[float32]map[string][]float32{}
			for _, sigma := range []float32{1, 0.25} {
				o.Sigma = sigma
				full[sigma] = grads(t, params, func(g *autograd.Graph) *autograd.Var {
					var l Losses
					l, tr = o.sar(g, b, 0)
					g.Scope().Keep(tr.Inputs, tr.Targets) // used after the graph
					return l.Total
				})
			}
			// Pass 2 alone, on the recorded SSR inputs and teacher targets as constants.
			pass2 := grads(t, params, func(g *autograd.Graph) *autograd.Var {
				z := s.Net.ForwardStudent(g, b.Labels, tr.Plan.Scales, autograd.Const(tr.Inputs))
				return g.CrossEntropy(g.Narrow(z, 1, tr.Plan.Offset, tr.Plan.Tokens), tr.Targets, autograd.DefaultCEOptions())
			})
			for name := range tf {
				for _, sigma := range []float32{1, 0.25} {
					for i := range tf[name] {
						got := full[sigma][name][i] - tf[name][i]
						want := sigma * pass2[name][i]
						require.InDelta(t, want, got, 1e-5+1e-4*math.Abs(float64(want)), "%s[%d] sigma %g", name, i, sigma)
					}
				}
			}
		})
	}
}

// studentLabels records the labels of every student-forcing pass.
type studentLabels struct {
	*fakeNet
	seen []*tensor.Tensor
}

func (r *studentLabels) ForwardStudent(g *autograd.Graph, labels *tensor.Tensor, scales schedule.Schedule, inputs *autograd.Var) *autograd.Var {
	r.seen = append(r.seen, labels.Clone())
	return r.fakeNet.ForwardStudent(g, labels, scales, inputs)
}

// TestPass2RedropsLabels checks that SAR's pass 2 draws its own condition
// dropout from the labels before dropout, as the authors' model does in
// every forward, and not pass 1's dropped labels.
func TestPass2RedropsLabels(t *testing.T) {
	s, o := sarSetup(t, "last", 1, TeacherArgmax)
	rec := &studentLabels{fakeNet: s.Net.(*fakeNet)}
	o.Net = rec
	const n = 32
	sc := tensor.NewScope(s.Dev)
	defer sc.Close()
	b := fakeBatch(t, s, n, testScales)
	classes := b.Labels.Clone()
	b.Labels = rec.DropLabels(classes, o.Seed, 0)
	b.Classes = classes
	const offset = 1000
	g := autograd.NewGraph(s.Dev) // owns the labels pass 2 saw
	o.sar(g, b, offset)
	require.Len(t, rec.seen, 1)
	want := rec.DropLabels(classes, o.Seed, offset+pass2LabelOffset)
	assert.Equal(t, want.Data(), rec.seen[0].Data())
	null := float32(s.NullClass)
	same, dropped := 0, 0
	for i, v := range rec.seen[0].Data() {
		if v == b.Labels.Data()[i] {
			same++
		}
		if v == null {
			dropped++
		}
		assert.True(t, v == null || v == classes.Data()[i], "label %d is its class or the null class", i)
	}
	assert.Less(t, same, n, "pass 2 draws its dropout independently of pass 1")
	assert.Positive(t, dropped)
	g.Close()

	// Without the labels before dropout, both passes share the labels.
	rec.seen = nil
	b.Classes = nil
	g = autograd.NewGraph(s.Dev)
	defer g.Close()
	o.sar(g, b, offset)
	assert.Equal(t, b.Labels.Data(), rec.seen[0].Data())
}

func TestTeacherSampleWithCFG(t *testing.T) {
	s, o := sarSetup(t, "last", 0.5, TeacherSample)
	require.True(t, o.Teacher.Guided())
	b := fakeBatch(t, s, 4, testScales)
	l1, tr1 := o.sar(newGraph(t, s.Dev), b, 10)
	l2, tr2 := o.sar(newGraph(t, s.Dev), b, 10)
	assert.Equal(t, tr1.Targets.Data(), tr2.Targets.Data(), "same offset, same draws")
	for _, v := range tr1.Targets.Data() {
		assert.True(t, v >= 0 && v < fakeVocab)
	}
	// L_TF uses the conditional half only: it equals plain TF's loss.
	tf := o.teacherForcing(nil, b)
	assert.InDelta(t, tf.Total.Value.Item(), l1.TF.Value.Item(), 1e-6)
	assert.InDelta(t, l1.Total.Value.Item(), l2.Total.Value.Item(), 1e-6)
}

// TestStudentForcingMatchesProgressive compares the one-forward student
// forcing with the authors' progressive form: one forward with gradient
// per scale over the prefix, its last scale trained against ground truth.
func TestStudentForcingMatchesProgressive(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Method, cfg.Teacher = MethodSF, TeacherArgmax
	s := fakeSetup(t, cfg)
	o, err := NewObjective(cfg, s.Net, s.Tok, s.NullClass)
	require.NoError(t, err)
	b := fakeBatch(t, s, 5, testScales)
	params := s.Net.Parameters()
	var sfLoss, progLoss float32
	got := grads(t, params, func(g *autograd.Graph) *autograd.Var {
		l := o.studentForcing(g, b, 0)
		sfLoss = l.Total.Value.Item()
		return l.Total
	})
	want := grads(t, params, func(g *autograd.Graph) *autograd.Var {
		var gen []*tensor.Tensor // generated ids per scale
		var sum *autograd.Var
		for k := range b.Scales {
			var in *autograd.Var
			if k > 0 {
				var parts []*tensor.Tensor
				for i := 1; i <= k; i++ {
					parts = append(parts, upsampleTokens(s.Tok.Embed(gen[i-1], b.Scales[i-1]), b.Scales[i]))
				}
				in = autograd.Const(tensor.Concat(1, parts...))
			}
			z := s.Net.Forward(g, b.Labels, b.Scales[:k+1], in)
			n := b.Scales[k] * b.Scales[k]
			cur := g.Narrow(z, 1, b.Scales[:k].Tokens(), n)
			gen = append(gen, tensor.Argmax(cur.Value, -1, false))
			ce := g.Sum(g.CrossEntropyRows(cur, b.IDs[k], autograd.DefaultCEOptions()), false)
			if sum == nil {
				sum = ce
			} else {
				sum = g.Add(sum, ce)
			}
		}
		loss := g.Scale(sum, 1/float32(b.Size()*b.Scales.Tokens()))
		progLoss = loss.Value.Item()
		return loss
	})
	assert.InDelta(t, progLoss, sfLoss, 1e-5)
	for name := range want {
		for i := range want[name] {
			require.InDelta(t, want[name][i], got[name][i], 1e-5, "%s[%d]", name, i)
		}
	}
}
