package dist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"sargo/dist/mpi"
)

// peerRecord is the fixed size of one rank's host and pid on the wire.
const peerRecord = 8 + 256

// exchangePeers tells every rank where every other runs: each rank in
// turn broadcasts its host name and process id.
func exchangePeers(mw *mpi.World, host string) ([]peer, error) {
	peers := make([]peer, mw.Size())
	buf := make([]byte, peerRecord)
	for r := range peers {
		clear(buf)
		if r == mw.Rank() {
			binary.LittleEndian.PutUint64(buf, uint64(os.Getpid()))
			copy(buf[8:], host)
		}
		if err := mw.Bcast(buf, r); err != nil {
			return nil, fmt.Errorf("dist: exchange process ids: %w", err)
		}
		name, _, _ := bytes.Cut(buf[8:], []byte{0})
		peers[r] = peer{Host: string(name), PID: int(binary.LittleEndian.Uint64(buf))}
	}
	return peers, nil
}

// processRuns reports whether process pid exists and has not exited (a
// zombie that its parent has not yet reaped counts as exited).
func processRuns(pid int) bool {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// The state follows the parenthesised command name.
		if i := strings.LastIndexByte(string(b), ')'); i >= 0 && i+2 < len(b) {
			return b[i+2] != 'Z' && b[i+2] != 'X'
		}
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
