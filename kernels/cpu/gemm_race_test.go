//go:build race

package cpu

// raceEnabled reports a race-detector build, in which sync.Pool drops items
// on purpose.
const raceEnabled = true
