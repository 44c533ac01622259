package app

import "strconv"

// Per-request traffic_limit (3.8, 3.9; docs/fileops.md): SMH hands it to COS as
// x-cos-traffic-limit, whose unit is bits per second within 819200-838860800 (100 KB/s to
// 100 MB/s), so OpenSMH reads it the same way and paces in bytes (÷ 8).
const (
	minTrafficBits = 819200
	maxTrafficBits = 838860800
)

// ParseTrafficLimit reads a request's traffic_limit: "" is none (0); otherwise a whole number of
// bits per second within COS's range, answered in bytes per second. Anything else is
// ParamInvalid.
func ParseTrafficLimit(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	bits, err := strconv.ParseInt(s, 10, 64)
	if err != nil || bits < minTrafficBits || bits > maxTrafficBits {
		return 0, &InputError{Err: ErrParamInvalid, Reason: "traffic_limit must be 819200-838860800 (bits per second)"}
	}
	return bits / 8, nil
}
