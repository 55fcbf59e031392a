package train

import (
	"sargo/sar/schedule"
)

// rolloutPlan is the shape of SAR's second (student-forcing) pass over a
// schedule s_0 < ... < s_{n−1}.
type rolloutPlan struct {
	// Transitions are the indices j of the rolled-out scales: scale j's
	// student input is the teacher's prediction at scale j−1 of the full
	// schedule, embedded and upsampled to s_j.
	Transitions []int
	// Scales is the pass-2 schedule: the first scale (its start tokens)
	// followed by the rolled-out scales.
	Scales schedule.Schedule
	// Offset and Tokens locate the rolled-out scales' tokens in the pass-2
	// sequence: positions [Offset, Offset+Tokens), after the start tokens.
	Offset, Tokens int
}

// planRollout lays out pass 2 for r over scales; a one-scale schedule has
// no transition (Tokens 0).
func planRollout(r Rollout, scales schedule.Schedule) rolloutPlan {
	p := rolloutPlan{Transitions: r.Transitions(len(scales)), Scales: schedule.Schedule{scales[0]}}
	p.Offset = scales[0] * scales[0]
	for _, j := range p.Transitions {
		p.Scales = append(p.Scales, scales[j])
		p.Tokens += scales[j] * scales[j]
	}
	return p
}
