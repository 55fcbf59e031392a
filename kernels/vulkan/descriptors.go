package vulkan

import "fmt"

// Descriptors. Where the device has VK_KHR_push_descriptor, every dispatch
// pushes its bindings into the command buffer (vkCmdPushDescriptorSetKHR),
// so nothing is allocated per dispatch. Elsewhere a cache keeps one
// descriptor set per distinct binding list (layout, and each binding's
// buffer and range): storages are recycled at the same places step after
// step, so a training step in steady state finds every set it needs and
// writes none. Sets are never rewritten, so a set in use by a batch in
// flight stays valid; the cache is emptied (after waiting for the device)
// when its pool is full or a buffer it may name is destroyed.

// setCacheSize is the most sets the cache holds before it starts over.
const setCacheSize = 4096

// setKey identifies a descriptor set: its layout and bindings.
type setKey struct {
	layout uint64
	nbuf   int
	bufs   [maxBindings]struct{ buffer, rng uint64 }
}

// setCache is the descriptor-set cache of a device without push
// descriptors.
type setCache struct {
	dev  *device
	pool uint64
	sets map[setKey]uint64
}

func newSetCache(dev *device) (*setCache, error) {
	pool, err := dev.createDescriptorPool(setCacheSize, setCacheSize*maxBindings)
	if err != nil {
		return nil, fmt.Errorf("create the descriptor pool: %w", err)
	}
	return &setCache{dev: dev, pool: pool, sets: map[setKey]uint64{}}, nil
}

func (c *setCache) destroy() {
	if c != nil {
		c.dev.destroyDescriptorPool(c.pool)
	}
}

// set returns the descriptor set for the first nbuf bindings of x under
// setLayout, writing a new one on a miss (full reports that the pool has
// no room: the caller empties the cache and asks again).
func (b *Backend) descriptorSet(setLayout uint64, nbuf int) (uint64, error) {
	c := b.sets
	key := setKey{layout: setLayout, nbuf: nbuf}
	for i := range nbuf {
		key.bufs[i].buffer, key.bufs[i].rng = uint64(b.rec.bufs[i].buffer), uint64(b.rec.bufs[i]._range)
	}
	if s, ok := c.sets[key]; ok {
		return s, nil
	}
	if len(c.sets) >= setCacheSize {
		if err := b.resetSets(); err != nil {
			return 0, err
		}
	}
	s, err := c.dev.makeSet(c.pool, setLayout, &b.rec, nbuf)
	if err != nil {
		return 0, fmt.Errorf("write a descriptor set: %w", err)
	}
	c.sets[key] = s
	b.count.DescriptorSets++
	b.count.DescriptorWrites += uint64(nbuf)
	return s, nil
}

// resetSets waits for the device and empties the cache. The caller holds
// b.mu.
func (b *Backend) resetSets() error {
	b.flushAndWait()
	clear(b.sets.sets)
	if err := b.sets.dev.resetDescriptorPool(b.sets.pool); err != nil {
		return fmt.Errorf("reset the descriptor pool: %w", err)
	}
	return nil
}

// forgetBuffers empties the descriptor cache before a pool destroys
// buffers, whose handles a later buffer may take. The caller holds b.mu.
func (b *Backend) forgetBuffers() {
	if b.sets == nil || len(b.sets.sets) == 0 {
		return
	}
	if err := b.resetSets(); err != nil {
		b.fail(fmt.Errorf("vulkan: %w", err))
	}
}
