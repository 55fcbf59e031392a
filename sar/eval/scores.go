package eval

import (
	"fmt"
	"math"
)

// InceptionScore is exp(E_x KL(p(y|x) ‖ p(y))) over n rows of class
// probabilities (row-major, classes per row), computed in one split: the
// Inception Score's formula applied to the sargo classifier. It lies in
// [1, classes]: 1 when every image gets the same prediction, classes when
// predictions are confident and the classes are balanced.
func InceptionScore(probs []float32, n, classes int) (float64, error) {
	if n < 1 || classes < 1 || len(probs) != n*classes {
		return 0, fmt.Errorf("inception score: %d probabilities for %d rows of %d classes", len(probs), n, classes)
	}
	marg := make([]float64, classes)
	for i := range n {
		for c, p := range probs[i*classes : (i+1)*classes] {
			marg[c] += float64(p)
		}
	}
	for c := range marg {
		marg[c] /= float64(n)
	}
	var kl float64
	for i := range n {
		for c, p := range probs[i*classes : (i+1)*classes] {
			if p > 0 && marg[c] > 0 {
				kl += float64(p) * (math.Log(float64(p)) - math.Log(marg[c]))
			}
		}
	}
	return math.Exp(kl / float64(n)), nil
}

// Accuracy is the fraction of rows whose most probable class is the
// row's label.
func Accuracy(probs []float32, labels []int, classes int) (float64, error) {
	n := len(labels)
	if n == 0 || classes < 1 || len(probs) != n*classes {
		return 0, fmt.Errorf("accuracy: %d probabilities for %d labels of %d classes", len(probs), n, classes)
	}
	right := 0
	for i, l := range labels {
		if argmax(probs[i*classes:(i+1)*classes]) == l {
			right++
		}
	}
	return float64(right) / float64(n), nil
}

// argmax is the index of the largest value (the first on ties).
func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
