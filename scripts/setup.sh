#!/usr/bin/env bash
# Installs what sargo needs on a Debian 12 machine, only what is missing:
# the Go toolchain named in go.mod, the Vulkan loader, Mesa's lavapipe
# driver, the Khronos validation layer, the shader tools, EGL and OpenGL
# with Mesa's llvmpipe driver and their development files (for -tags
# opengl), (with --python) Debian's PyTorch, NumPy and OpenBLAS for the
# reference scripts, and (with --mpi) Open MPI for data-parallel training
# across processes and machines.
# It says what it does; installing system packages needs root.
set -euo pipefail

want_python=0
want_mpi=0
for a in "$@"; do
  case "$a" in
    --python) want_python=1 ;;
    --mpi) want_mpi=1 ;;
    *) echo "setup: unknown option $a" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
go_version=$(awk '/^go [0-9]/ {print $2}' "$root/go.mod")

missing=()
need_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1"); }
for p in libvulkan1 libvulkan-dev mesa-vulkan-drivers vulkan-validationlayers glslc spirv-tools gcc \
  libegl1 libegl-dev libegl-mesa0 libgl-dev libgl1-mesa-dri pkg-config; do need_pkg "$p"; done
if [ "$want_python" = 1 ]; then
  for p in python3 python3-torch python3-numpy libopenblas0-pthread; do need_pkg "$p"; done
fi
if [ "$want_mpi" = 1 ]; then
  # sargo opens libmpi.so.40 at run time; mpirun starts the ranks.
  for p in openmpi-bin libopenmpi-dev; do need_pkg "$p"; done
fi

have_go() {
  command -v go >/dev/null 2>&1 || return 1
  local v; v=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
  [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$go_version" "$v" | sort -V | head -1)" = "$go_version" ]
}
if ! have_go && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
if ! have_go; then need_pkg golang-go; fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! have_go; then
  # Debian 12 ships Go 1.19; fetch the Go release that go.mod names as the
  # golang.org/toolchain module, through the Go module proxy like any module.
  echo "setup: installing Go $go_version from the golang.org/toolchain module"
  tmp=$(mktemp -d)
  (cd "$tmp" && /usr/bin/go mod init toolchainfetch >/dev/null 2>&1 &&
    GOFLAGS=-mod=mod /usr/bin/go mod download -json "golang.org/toolchain@v0.0.1-go${go_version}.linux-$(dpkg --print-architecture)") > "$tmp/dl.json"
  dir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' "$tmp/dl.json")
  [ -x "$dir/bin/go" ] || chmod -R u+x "$dir/bin" "$dir/pkg/tool" 2>/dev/null || true
  chmod -R u+w "$dir" 2>/dev/null || true
  rm -rf /usr/local/go && cp -a "$dir" /usr/local/go && chmod +x /usr/local/go/bin/* /usr/local/go/pkg/tool/*/*
  rm -rf "$tmp"
  export PATH="/usr/local/go/bin:$PATH"
  have_go || { echo "setup: Go $go_version could not be installed" >&2; exit 1; }
fi
echo "setup: $(go version), Vulkan loader $(dpkg-query -W -f='${Version}' libvulkan1 2>/dev/null || echo missing), Mesa $(dpkg-query -W -f='${Version}' libgl1-mesa-dri 2>/dev/null || echo missing)"
if [ "$want_mpi" = 1 ]; then
  echo "setup: $(mpirun --version 2>/dev/null | head -1 || echo 'Open MPI missing')"
fi
