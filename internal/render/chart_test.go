package render

import "testing"

func TestNiceTicksEdgeCases(t *testing.T) {
	for _, tc := range [][2]float64{{0, 1e-323}, {-1e308, 1e308}, {0, 0}, {5, 5}, {0, 97}} {
		ticks := NiceTicks(tc[0], tc[1], 5)
		if len(ticks) < 2 || ticks[0] > tc[0] || ticks[len(ticks)-1] < tc[1] {
			t.Errorf("NiceTicks(%g, %g) = %v", tc[0], tc[1], ticks)
		}
	}
}
