package tensor

// RowLayoutOf exposes rowLayout to the external tests.
func RowLayoutOf(t *Tensor) (RowLayout, bool) { return t.rowLayout() }
