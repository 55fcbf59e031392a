package nn

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"sargo/autograd"
	_ "sargo/kernels/cpu"
	"sargo/tensor"
)

// dev is the device the tests run on.
func dev() tensor.Backend { return tensor.MustOpen("cpu") }

// rebind replaces, anywhere inside the module value m (following pointers,
// slices and struct fields of this package's types), every *autograd.Var
// that is a key of repl by its value.
func rebind(m any, repl map[*autograd.Var]*autograd.Var) {
	varType := reflect.TypeOf((*autograd.Var)(nil))
	pkg := reflect.TypeOf(Linear{}).PkgPath()
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				return
			}
			if v.Type() == varType {
				return
			}
			if v.Elem().Kind() == reflect.Struct && v.Elem().Type().PkgPath() == pkg {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				f := v.Field(i)
				if !f.CanSet() {
					continue
				}
				if f.Type() == varType {
					if r, ok := repl[f.Interface().(*autograd.Var)]; ok {
						f.Set(reflect.ValueOf(r))
					}
					continue
				}
				walk(f)
			}
		}
	}
	walk(reflect.ValueOf(m))
}

// checkModuleGrad runs autograd.CheckGrad over the inputs and every
// parameter of m; fwd computes the output from the input Vars.
func checkModuleGrad(t *testing.T, m Module, inputs []*tensor.Tensor, fwd func(g *autograd.Graph, in []*autograd.Var) *autograd.Var) {
	t.Helper()
	params := m.Parameters()
	all := append([]*tensor.Tensor(nil), inputs...)
	for _, p := range params {
		all = append(all, p.Var.Value)
	}
	back := map[*autograd.Var]*autograd.Var{} // CheckGrad's copies → the originals
	f := func(g *autograd.Graph, xs []*autograd.Var) *autograd.Var {
		if len(back) == 0 && len(params) > 0 {
			repl := map[*autograd.Var]*autograd.Var{}
			for i, p := range params {
				repl[p.Var] = xs[len(inputs)+i]
				back[xs[len(inputs)+i]] = p.Var
			}
			rebind(m, repl)
		}
		return fwd(g, xs[:len(inputs)])
	}
	res, err := autograd.CheckGrad(f, all, autograd.CheckOptions{})
	rebind(m, back)
	require.NoError(t, err, "max rel %v", res.MaxRel)
}

// randT makes a reproducible N(0, std²) tensor.
func randT(seed uint64, std float32, shape ...int) *tensor.Tensor {
	x := tensor.Randn(dev(), seed, 0, shape...)
	return tensor.Scale(x, std)
}
