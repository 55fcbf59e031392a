package train_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/dist"
	_ "sargo/kernels/vulkan"
	"sargo/nn"
	"sargo/sar"
	"sargo/sar/data"
	"sargo/sar/preset"
	"sargo/sar/tokenizer"
	"sargo/sar/train"
	"sargo/tensor"
	"sargo/tensor/tensortest"
)

// twoLavapipesEnv marks the child process of TestTwoVulkanDevicesMatchOne.
const twoLavapipesEnv = "SARGO_TEST_TWO_LAVAPIPES"

// twoLavapipes writes two Vulkan driver manifests for Mesa's lavapipe and
// returns the VK_ICD_FILENAMES under which the loader lists it twice:
// vulkan:0 and vulkan:1, two devices of one CPU driver.
func twoLavapipes(t *testing.T) string {
	t.Helper()
	var src string
	for _, f := range append(strings.Split(os.Getenv("VK_ICD_FILENAMES"), ":"), "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json") {
		if _, err := os.Stat(f); err == nil && strings.Contains(filepath.Base(f), "lvp") {
			src = f
			break
		}
	}
	if src == "" {
		if os.Getenv("SARGO_REQUIRE_VULKAN") == "1" {
			t.Fatal("SARGO_REQUIRE_VULKAN=1 but no lavapipe driver manifest (lvp_icd.*.json) was found")
		}
		t.Skip("Mesa's lavapipe is not installed")
	}
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	dir := t.TempDir()
	var files []string
	for _, n := range []string{"a.json", "b.json"} {
		p := filepath.Join(dir, n)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		files = append(files, p)
	}
	return strings.Join(files, ":")
}

// TestTwoVulkanDevicesMatchOne runs TestTwoVulkanDevicesChild in a
// process whose Vulkan loader sees lavapipe twice.
func TestTwoVulkanDevicesMatchOne(t *testing.T) {
	if os.Getenv(twoLavapipesEnv) != "" {
		t.Skip("the child runs TestTwoVulkanDevicesChild only")
	}
	icd := twoLavapipes(t)
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^TestTwoVulkanDevicesChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "VK_ICD_FILENAMES="+icd, twoLavapipesEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "--- PASS: TestTwoVulkanDevicesChild", "%s", out)
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "relative difference") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

// vulkanSetup is the tiny preset's tokenizer and transformer on dev
// training SAR with a sampled teacher on 8 noise images.
func vulkanSetup(t *testing.T, dev tensor.Backend) (train.Setup, train.Replica) {
	t.Helper()
	p, err := preset.Get("tiny")
	require.NoError(t, err)
	vq, err := tokenizer.New(p.Tokenizer, dev, 1)
	require.NoError(t, err)
	vq.SetTrain(false)
	m, err := sar.NewModel(p.Model, dev, 1)
	require.NoError(t, err)
	cfg := p.Train
	cfg.Method, cfg.Teacher, cfg.Batch, cfg.Steps, cfg.Warmup, cfg.LogEvery, cfg.SaveEvery = train.MethodSAR, train.TeacherSample, 4, 2, 1, 1, 0
	ds := &data.Dataset{Name: "noise", C: 1, H: 32, W: 32}
	for i := range 10 {
		ds.Classes = append(ds.Classes, fmt.Sprint(i))
	}
	for i := range 8 {
		for j := range 32 * 32 {
			ds.Images = append(ds.Images, 2*tensor.PhiloxUniform(3, uint64(i*1024+j))-1)
		}
		ds.Labels = append(ds.Labels, i%10)
	}
	s := train.Setup{Cfg: cfg, Net: m, Tok: vq, Inputs: sar.NextScaleInputs, NullClass: p.Model.NumClasses,
		Largest: p.Tokenizer.Latent(), Data: ds, Dev: dev}
	return s, train.Replica{Net: m, Tok: vq, Dev: dev}
}

// TestTwoVulkanDevicesChild trains 2 SAR steps of the tiny transformer
// with the batch of 4 split over vulkan:0 and vulkan:1, and on vulkan:0
// alone, compares the weights and checks that the two-device run leaves
// nothing live on either device.
func TestTwoVulkanDevicesChild(t *testing.T) {
	if os.Getenv(twoLavapipesEnv) == "" {
		t.Skip("run by TestTwoVulkanDevicesMatchOne, with lavapipe listed twice")
	}
	d0, err := tensor.Open("vulkan:0")
	require.NoError(t, err)
	d1, err := tensor.Open("vulkan:1")
	require.NoError(t, err)
	require.NotSame(t, d0, d1)
	dir := t.TempDir()
	ctx := context.Background()
	one, _ := vulkanSetup(t, d0)
	_, err = train.Run(ctx, one, train.RunOptions{Out: filepath.Join(dir, "one")})
	require.NoError(t, err)
	lead, _ := vulkanSetup(t, d0)
	_, rep := vulkanSetup(t, d1)
	lead.Parallel = &train.Parallel{World: dist.Alone(), Replicas: []train.Replica{rep}, BucketBytes: 64 << 10}
	// Both replicas free what the run made: optimiser moments, gradients,
	// every step's temporaries.
	tensortest.NoLeaksOn(t, []tensor.Backend{d0, d1}, func() {
		_, err = train.Run(ctx, lead, train.RunOptions{Out: filepath.Join(dir, "two")})
		require.NoError(t, err)
	})
	for _, d := range []tensor.Backend{d0, d1} {
		require.NoError(t, d.Sync(), d.Name())
	}

	fa, err := nn.ReadSafetensorsFile(filepath.Join(dir, "one", train.CheckpointFile))
	require.NoError(t, err)
	fb, err := nn.ReadSafetensorsFile(filepath.Join(dir, "two", train.CheckpointFile))
	require.NoError(t, err)
	ib := fb.Index()
	var diff, norm float64
	for _, ta := range fa.Tensors {
		if strings.HasPrefix(ta.Name, "optim.") {
			continue
		}
		va, err := ta.Float32s()
		require.NoError(t, err)
		vb, err := ib[ta.Name].Float32s()
		require.NoError(t, err)
		for i := range va {
			diff += math.Pow(float64(va[i])-float64(vb[i]), 2)
			norm += math.Pow(float64(va[i]), 2)
		}
	}
	rel := math.Sqrt(diff / norm)
	t.Logf("weights after 2 steps: relative difference %.3g between vulkan:0+vulkan:1 and vulkan:0 alone", rel)
	assert.LessOrEqual(t, rel, 1e-6)
	for i, p := range rep.Net.Parameters() {
		assert.Equal(t, lead.Net.Parameters()[i].Var.Value.Data(), p.Var.Value.Data(), "vulkan:1 holds vulkan:0's %s", p.Name)
	}
}
