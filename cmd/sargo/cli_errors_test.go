package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sargo/nn"
	"sargo/sar"
	"sargo/sar/tokenizer"
	"sargo/tensor"
)

// cliArgsEnv, when set, makes the test binary run the CLI with these
// arguments (separated by cliArgSep) instead of the tests, so that a test
// sees the real exit code and stderr of a fresh process.
const (
	cliArgsEnv = "SARGO_TEST_CLI_ARGS"
	cliArgSep  = "\x1f"
)

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(cliArgsEnv); ok {
		os.Args = append([]string{"sargo"}, strings.Split(args, cliArgSep)...)
		main()
		os.Exit(0)
	}
	code := m.Run()
	removeTrainedFixture()
	os.Exit(code)
}

// cliTimeout bounds one sargo process of a test, so that an input that
// makes sargo hang (a named pipe read as a file) fails the test instead
// of blocking it.
const cliTimeout = 2 * time.Minute

// cliCommand is sargo with args, run in dir with extra environment
// variables, as a subprocess of the test binary.
func cliCommand(t *testing.T, ctx context.Context, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, exe)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), cliArgsEnv+"="+strings.Join(args, cliArgSep)), env...)
	return cmd
}

// runCLI runs sargo with args in dir as a subprocess with extra
// environment variables and returns its exit code and stderr.
func runCLI(t *testing.T, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	code, _, stderr := runCLIOut(t, dir, env, args...)
	return code, stderr
}

// runCLIOut is runCLI that also returns stdout. A process still running
// after cliTimeout is killed (exit code -1).
func runCLIOut(t *testing.T, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := cliCommand(t, ctx, dir, env, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Errorf("sargo %s: still running after %s, killed", strings.Join(args, " "), cliTimeout)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String(), errb.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errb.String()
}

// cliFixtures is the working folder of the table: image folders, a tiny
// run with its tokenizer, and files that are wrong in one way each.
func cliFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	grey := func(w, h int) image.Image {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 7)
		}
		return img
	}
	var pngBuf, jpgBuf bytes.Buffer
	require.NoError(t, png.Encode(&pngBuf, grey(16, 16)))
	require.NoError(t, jpeg.Encode(&jpgBuf, grey(16, 16), nil))
	files := map[string][]byte{
		"good/a/1.png":        pngBuf.Bytes(),
		"good/b/1.jpg":        jpgBuf.Bytes(),
		"flat/1.png":          pngBuf.Bytes(),
		"badpng/a/1.png":      append([]byte("\x89PNG\r\n\x1a\n"), "not a png"...),
		"truncpng/a/1.png":    pngBuf.Bytes()[:pngBuf.Len()/2],
		"truncjpg/a/1.jpg":    jpgBuf.Bytes()[:jpgBuf.Len()/2],
		"gif/a/1.gif":         []byte("GIF89a"),
		"emptyclass/a/x.txt":  []byte("notes"),
		"existing/model.json": []byte("{}"),
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "empty"), 0o755))

	// run: the tiny model and tokenizer of sampleRun, copied in.
	src := sampleRun(t)
	require.NoError(t, os.CopyFS(filepath.Join(dir, "run"), os.DirFS(src)))
	require.NoError(t, os.CopyFS(filepath.Join(dir, "tok"), os.DirFS(filepath.Join(filepath.Dir(src), "tok"))))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "run", "run.json"), []byte(`{"tokenizer":"../tok"}`), 0o644))
	model := filepath.Join(dir, "run", "model.safetensors")
	raw, err := os.ReadFile(model)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "truncated.safetensors"), raw[:len(raw)*2/3], 0o644))
	bad := append([]byte(nil), raw...)
	copy(bad[8:], "{\"x\"")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "corrupt.safetensors"), bad, 0o644))
	writeOtherConfig(t, model, filepath.Join(dir, "other.safetensors"))
	vq, err := tokenizer.New(tokenizer.Config{ImageChannels: 1, ImageSize: 16, Downsample: 4, Base: 8,
		ResBlocks: 1, CVae: 8, Codebook: 32, Beta: 0.25}, tensor.MustOpen("cpu"), 1)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "tok32"), 0o755))
	require.NoError(t, vq.Save(filepath.Join(dir, "tok32", tokenizer.CheckpointFile), nil))
	return dir
}

// writeOtherConfig rewrites the checkpoint src with the configuration of a
// deeper, wider model in its metadata, so that every tensor mismatches.
func writeOtherConfig(t *testing.T, src, dst string) {
	t.Helper()
	f, err := nn.ReadSafetensorsFile(src)
	require.NoError(t, err)
	cfg, err := sar.ReadConfig(src)
	require.NoError(t, err)
	cfg.Depth, cfg.Width = 2, 32
	mc, err := json.Marshal(cfg)
	require.NoError(t, err)
	obj := map[string]json.RawMessage{}
	require.NoError(t, json.Unmarshal([]byte(f.Metadata["config"]), &obj))
	obj["model"] = mc
	meta := map[string]string{}
	for k, v := range f.Metadata {
		meta[k] = v
	}
	buf, err := json.Marshal(obj)
	require.NoError(t, err)
	meta["config"] = string(buf)
	require.NoError(t, nn.WriteSafetensorsFile(dst, f.Tensors, meta))
}

// digest maps every regular file under dir to a hash of its content
// (named pipes are skipped: reading one would block).
func digest(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = sha256.Sum256(b)
		return nil
	}))
	return out
}

// vulkanAvailable reports whether a Vulkan device opens.
func vulkanAvailable() bool {
	_, err := tensor.Open("vulkan")
	return err == nil
}

// openglAvailable reports whether an OpenGL device opens.
func openglAvailable() bool {
	_, err := tensor.Open("opengl")
	return err == nil
}

// TestCLIBadInput runs each kind of bad input through the sargo command
// line and checks that it exits non-zero with a message naming what is
// wrong, and that no file in the working folder changed.
func TestCLIBadInput(t *testing.T) {
	dir := cliFixtures(t)
	tok := []string{"--preset", "tiny", "--steps", "1", "--out", "tokout"}
	tests := []struct {
		name   string
		env    []string
		args   []string
		want   []string
		vulkan bool // needs a working Vulkan device
		opengl bool // needs a working OpenGL device
		mesa   bool // needs Mesa's OpenGL (which reads MESA_GL_VERSION_OVERRIDE)
	}{
		{name: "data path missing", args: append([]string{"train-tokenizer", "--data", "nowhere"}, tok...),
			want: []string{"nowhere", "no such file or directory"}},
		{name: "data path is a file", args: append([]string{"train-tokenizer", "--data", "flat/1.png"}, tok...),
			want: []string{"flat/1.png", "not a folder"}},
		{name: "empty folder", args: append([]string{"train-tokenizer", "--data", "empty"}, tok...),
			want: []string{"empty", "no class folders", "want one sub-folder of images per class"}},
		{name: "images without class folders", args: append([]string{"train-tokenizer", "--data", "flat"}, tok...),
			want: []string{"flat", "no class folders"}},
		{name: "class folder without images", args: append([]string{"train-tokenizer", "--data", "emptyclass"}, tok...),
			want: []string{"class folder \"a\" has no PNG or JPEG images"}},
		{name: "corrupt PNG", args: append([]string{"train-tokenizer", "--data", "badpng"}, tok...),
			want: []string{"badpng/a/1.png", "corrupt or truncated PNG"}},
		{name: "truncated PNG", args: append([]string{"train-tokenizer", "--data", "truncpng"}, tok...),
			want: []string{"truncpng/a/1.png", "corrupt or truncated PNG"}},
		{name: "truncated JPEG", args: append([]string{"train-tokenizer", "--data", "truncjpg"}, tok...),
			want: []string{"truncjpg/a/1.jpg", "corrupt or truncated JPEG"}},
		{name: "unsupported image format", args: append([]string{"train-tokenizer", "--data", "gif"}, tok...),
			want: []string{"gif/a/1.gif", "unsupported image format .gif (want PNG or JPEG)"}},
		{name: "train data path missing", args: []string{"train", "--preset", "tiny",
			"--tokenizer", "tok", "--data", "nowhere", "--out", "trainout"},
			want: []string{"--data nowhere", "no such file"}},
		{name: "label out of range", args: []string{"sample", "--model", "run", "--class", "7", "--out", "s.png"},
			want: []string{"--class \"7\"", "want a class in [0, 2)"}},
		{name: "schedule not increasing", args: []string{"sample", "--model", "run", "--schedule", "1_3_2", "--out", "s.png"},
			want: []string{"--schedule", "1_3_2"}},
		{name: "schedule beyond the latent", args: []string{"sample", "--model", "run", "--schedule", "1_2_9", "--out", "s.png"},
			want: []string{"--schedule", "9", "4"}},
		{name: "checkpoint of another configuration", args: []string{"sample", "--model", "other.safetensors",
			"--tokenizer", "tok", "--out", "s.png"},
			want: []string{"other.safetensors", "mismatches", "shape of blocks.0.", "want [", "got [", "missing blocks.1."}},
		{name: "model and tokenizer of different configurations", args: []string{"sample", "--model", "run",
			"--tokenizer", "tok32", "--out", "s.png"},
			want: []string{"model (vocab 16, CVae 4) does not fit the tokenizer (codebook 32, CVae 8)"}},
		{name: "init checkpoint and tokenizer of different configurations", args: []string{"train", "--preset", "tiny",
			"--tokenizer", "tok32", "--data", "good", "--init", "run/model.safetensors", "--out", "trainout"},
			want: []string{"run/model.safetensors", "tok32", "model vocabulary 16 does not match the tokenizer codebook 32"}},
		{name: "truncated safetensors", args: []string{"inspect", "truncated.safetensors"},
			want: []string{"truncated.safetensors", "corrupt safetensors"}},
		{name: "corrupt safetensors header", args: []string{"inspect", "corrupt.safetensors"},
			want: []string{"corrupt.safetensors", "corrupt safetensors"}},
		{name: "truncated checkpoint as model", args: []string{"sample", "--model", "truncated.safetensors",
			"--tokenizer", "tok", "--out", "s.png"},
			want: []string{"truncated.safetensors"}},
		{name: "existing run without --resume", args: []string{"train", "--preset", "tiny", "--tokenizer", "tok",
			"--data", "good", "--steps", "1", "--batch", "2", "--out", "run"},
			want: []string{"run", "--resume"}},
		{name: "unknown device", args: []string{"--device", "tpu", "sample", "--model", "run", "--out", "s.png"},
			want: []string{"unknown device \"tpu\"", "known kinds are cpu, opengl, vulkan"}},
		{name: "device index out of range", args: []string{"--device", "vulkan:9", "sample", "--model", "run", "--out", "s.png"},
			want: []string{"vulkan:9"}},
		{name: "Vulkan loader missing", env: []string{"SARGO_VULKAN_LOADER=libsargo-no-such-vulkan.so.1"},
			args: []string{"--device", "vulkan", "sample", "--model", "run", "--out", "s.png"},
			want: []string{"libvulkan1"}},
		{name: "Vulkan driver missing", env: []string{"VK_ICD_FILENAMES=/nonexistent/icd.json", "VK_DRIVER_FILES=/nonexistent/icd.json"},
			args: []string{"--device", "vulkan", "sample", "--model", "run", "--out", "s.png"},
			want: []string{"no Vulkan device", "mesa-vulkan-drivers"}, vulkan: true},
		{name: "request larger than the device's memory", args: []string{"--device", "vulkan", "sample", "--model", "run",
			"--class", "0", "--n", "2200000", "--cfg", "0", "--out", "s.png"},
			want: []string{"sampling 2200000 images at once (schedule 1_2_3_4, without guidance) needs", "but device vulkan:0 has"}, vulkan: true},
		{name: "unknown RADV family", args: []string{"shaders", "--stats", "--families", "navi21,navi99"},
			want: []string{"--families", "unknown RADV family \"navi99\"", "gfx1100"}},
		{name: "shaders on the CPU device", args: []string{"--device", "cpu", "shaders"},
			want: []string{"--device \"cpu\"", "vulkan:N"}, vulkan: true},
		{name: "EGL library missing", env: []string{"SARGO_OPENGL_EGL=libsargo-no-such-egl.so.1"},
			args: []string{"--device", "opengl", "sample", "--model", "run", "--out", "s.png"},
			want: []string{"apt-get install libegl1"}, opengl: true},
		{name: "OpenGL driver older than 4.3", env: []string{"MESA_GL_VERSION_OVERRIDE=4.2"},
			args: []string{"--device", "opengl", "sample", "--model", "run", "--out", "s.png"},
			want: []string{"older than 4.3", "OpenGL 4.2"}, opengl: true, mesa: true},
		{name: "request larger than the OpenGL device's memory", args: []string{"--device", "opengl", "sample", "--model", "run",
			"--class", "0", "--n", "2200000", "--cfg", "0", "--out", "s.png"},
			want: []string{"sampling 2200000 images at once (schedule 1_2_3_4, without guidance) needs", "but device opengl:0 has"}, opengl: true},
		{name: "OpenGL device index out of range", args: []string{"--device", "opengl:9", "sample", "--model", "run", "--out", "s.png"},
			want: []string{"opengl:9"}},
	}
	hasVulkan, hasOpenGL, mesaGL := vulkanAvailable(), openglAvailable(), false
	if gl, err := tensor.Open("opengl"); err == nil {
		mesaGL = strings.Contains(gl.Describe(), "Mesa")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.vulkan && !hasVulkan && os.Getenv("SARGO_REQUIRE_VULKAN") != "1" {
				t.Skip("no Vulkan device")
			}
			if tc.opengl && !hasOpenGL && os.Getenv("SARGO_REQUIRE_OPENGL") != "1" {
				t.Skip("no OpenGL device")
			}
			if tc.mesa && hasOpenGL && !mesaGL {
				t.Skip("OpenGL is not Mesa's")
			}
			before := digest(t, dir)
			code, stderr := runCLI(t, dir, tc.env, tc.args...)
			t.Logf("exit %d: %s", code, stderr)
			assert.Equal(t, 1, code, "exit code; stderr:\n%s", stderr)
			require.True(t, strings.HasPrefix(stderr, "sargo: "), "stderr: %q", stderr)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
			assert.Equal(t, before, digest(t, dir), "files changed")
			for _, out := range []string{"tokout", "trainout", "s.png"} {
				assert.NoFileExists(t, filepath.Join(dir, out, "tokenizer.safetensors"))
				assert.NoFileExists(t, filepath.Join(dir, out))
			}
		})
	}
}

// TestCLIMixedImages checks that images of mixed sizes and channel counts
// are accepted: the loader converts each to the tokenizer's channels and
// crops and resizes it to its size (see data.LoadFolder).
func TestCLIMixedImages(t *testing.T) {
	dir := t.TempDir()
	rgb := image.NewRGBA(image.Rect(0, 0, 40, 24))
	for i := range rgb.Pix {
		rgb.Pix[i] = uint8(i)
	}
	grey := image.NewGray16(image.Rect(0, 0, 9, 9))
	grey.SetGray16(3, 3, color.Gray16{Y: 60000})
	for name, img := range map[string]image.Image{"a/rgb.png": rgb, "b/grey.png": grey} {
		var buf bytes.Buffer
		require.NoError(t, png.Encode(&buf, img))
		p := filepath.Join(dir, "data", name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	}
	code, stderr := runCLI(t, dir, nil, "train-tokenizer", "--data", "data", "--preset", "tiny",
		"--steps", "1", "--batch", "2", "--out", "tok")
	require.Equal(t, 0, code, stderr)
	assert.FileExists(t, filepath.Join(dir, "tok", "tokenizer.safetensors"))
}
