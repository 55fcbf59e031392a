package vulkan

import (
	"maps"
	"time"
)

// Counters are what the backend has recorded since it was opened: the
// dispatch path's work and its host cost. A caller takes two snapshots and
// subtracts them (Sub) to count one step.
type Counters struct {
	// Dispatches are vkCmdDispatch calls.
	Dispatches uint64
	// Barriers are the pipeline barriers recorded between commands on a
	// hazard (not the ones that open and close every batch).
	Barriers uint64
	// DescriptorWrites are the storage-buffer descriptors written, by
	// vkUpdateDescriptorSets or vkCmdPushDescriptorSetKHR.
	DescriptorWrites uint64
	// DescriptorSets are the descriptor sets allocated.
	DescriptorSets uint64
	// Fills and Copies are vkCmdFillBuffer and vkCmdCopyBuffer calls.
	Fills, Copies uint64
	// Submits are vkQueueSubmit calls; HostWaits the fence waits.
	Submits, HostWaits uint64
	// LaunchTime is the host time spent recording dispatches, from the
	// start of launch to its return, submits included and fence waits
	// excluded.
	LaunchTime time.Duration
	// ByShader counts the dispatches of each shader.
	ByShader map[string]uint64
	// DeviceTime is the device time of each shader's dispatches, from
	// their timestamps, while profiling (SARGO_PROFILE=1); nil otherwise.
	DeviceTime map[string]time.Duration
}

// Sub returns c − o, counter by counter.
func (c Counters) Sub(o Counters) Counters {
	d := Counters{
		Dispatches: c.Dispatches - o.Dispatches, Barriers: c.Barriers - o.Barriers,
		DescriptorWrites: c.DescriptorWrites - o.DescriptorWrites, DescriptorSets: c.DescriptorSets - o.DescriptorSets,
		Fills: c.Fills - o.Fills, Copies: c.Copies - o.Copies, Submits: c.Submits - o.Submits,
		HostWaits: c.HostWaits - o.HostWaits, LaunchTime: c.LaunchTime - o.LaunchTime,
		ByShader: map[string]uint64{},
	}
	for k, v := range c.ByShader {
		if n := v - o.ByShader[k]; n > 0 {
			d.ByShader[k] = n
		}
	}
	if c.DeviceTime != nil {
		d.DeviceTime = map[string]time.Duration{}
		for k, v := range c.DeviceTime {
			if t := v - o.DeviceTime[k]; t > 0 {
				d.DeviceTime[k] = t
			}
		}
	}
	return d
}

// HostPerDispatch is LaunchTime divided by Dispatches.
func (c Counters) HostPerDispatch() time.Duration {
	if c.Dispatches == 0 {
		return 0
	}
	return c.LaunchTime / time.Duration(c.Dispatches)
}

// Counters returns a snapshot of the backend's counters.
func (b *Backend) Counters() Counters {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.count
	c.ByShader = map[string]uint64{}
	if b.pipes != nil {
		for _, pl := range b.pipes.byKey {
			if pl.dispatches > 0 {
				c.ByShader[pl.name] += pl.dispatches
			}
		}
	}
	c.DeviceTime = maps.Clone(b.count.DeviceTime)
	return c
}
