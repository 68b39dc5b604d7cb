package charter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time window in a charter. It is written as one or more
// whole numbers each followed by a unit, largest unit first: w (week, 7
// days), d (day, 24 hours), h, m or s, as in "14d", "72h", "30m", "2w" or
// "1d12h". "0" is the zero duration. The maximum is MaxDuration.
type Duration time.Duration

// MaxDuration is the longest window a charter may set: ten years of days.
const MaxDuration = Duration(3650 * 24 * time.Hour)

const day = 24 * time.Hour

var durationUnits = []struct {
	c byte
	d time.Duration
}{
	{'w', 7 * day}, {'d', day}, {'h', time.Hour}, {'m', time.Minute}, {'s', time.Second},
}

// ParseDuration parses a charter duration such as "14d".
func ParseDuration(s string) (Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, errors.New(`empty duration (write e.g. "14d", "72h" or "30m")`)
	}
	var total int64 // seconds
	next := 0       // index into durationUnits of the next allowed unit
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i || j == len(s) || j-i > 9 {
			return 0, badDuration(s)
		}
		n, err := strconv.ParseInt(s[i:j], 10, 64)
		if err != nil {
			return 0, badDuration(s)
		}
		u := -1
		for k := next; k < len(durationUnits); k++ {
			if durationUnits[k].c == s[j] {
				u = k
				break
			}
		}
		if u < 0 {
			return 0, badDuration(s)
		}
		total += n * int64(durationUnits[u].d/time.Second)
		if total > int64(time.Duration(MaxDuration)/time.Second) {
			return 0, fmt.Errorf("duration %q is longer than the maximum of %s", s, MaxDuration)
		}
		next = u + 1
		i = j + 1
	}
	return Duration(time.Duration(total) * time.Second), nil
}

func badDuration(s string) error {
	return fmt.Errorf(`bad duration %q (write a whole number and a unit, largest first: w, d, h, m or s, e.g. "14d", "72h", "1d12h")`, s)
}

// String formats d in the largest of the units d, h, m and s that divides
// it exactly ("14d", "36h", "90m"), so that ParseDuration(d.String()) == d.
// Zero is "0d". A duration that is not a whole number of seconds, which
// ParseDuration never returns, is formatted as time.Duration does.
func (d Duration) String() string {
	td := time.Duration(d)
	if td == 0 {
		return "0d"
	}
	if td < 0 || td%time.Second != 0 {
		return td.String()
	}
	for _, u := range durationUnits[1:] {
		if td%u.d == 0 {
			return strconv.FormatInt(int64(td/u.d), 10) + string(u.c)
		}
	}
	return td.String() // unreachable: every whole second divides by s
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseDuration.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Fraction is a ratio written "n/d", such as "2/3", used for supermajority
// thresholds and quorums. The zero Fraction (0/0) means "not set".
type Fraction struct {
	Num, Den int
}

// maxFractionPart bounds numerator and denominator so that products with
// vote counts cannot overflow.
const maxFractionPart = 1000

// ParseFraction parses "n/d" with 0 <= n <= d and 1 <= d <= 1000.
func ParseFraction(s string) (Fraction, error) {
	ns, ds, ok := strings.Cut(s, "/")
	if !ok || !digits(ns) || !digits(ds) || len(ns) > 4 || len(ds) > 4 {
		return Fraction{}, fmt.Errorf(`bad fraction %q (write "n/d", e.g. "2/3")`, s)
	}
	n, _ := strconv.Atoi(ns)
	d, _ := strconv.Atoi(ds)
	switch {
	case d == 0:
		return Fraction{}, fmt.Errorf("bad fraction %q: the denominator must not be 0", s)
	case d > maxFractionPart:
		return Fraction{}, fmt.Errorf("bad fraction %q: the denominator must be at most %d", s, maxFractionPart)
	case n > d:
		return Fraction{}, fmt.Errorf("bad fraction %q: must be at most 1", s)
	}
	return Fraction{Num: n, Den: d}, nil
}

// IsZero reports whether f is unset.
func (f Fraction) IsZero() bool { return f.Den == 0 }

// String returns "n/d", or "" for the zero Fraction.
func (f Fraction) String() string {
	if f.IsZero() {
		return ""
	}
	return strconv.Itoa(f.Num) + "/" + strconv.Itoa(f.Den)
}

// MarshalText implements encoding.TextMarshaler.
func (f Fraction) MarshalText() ([]byte, error) {
	return []byte(f.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseFraction; an
// empty text is the zero Fraction.
func (f *Fraction) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*f = Fraction{}
		return nil
	}
	v, err := ParseFraction(string(text))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// less reports whether f < g (both set).
func (f Fraction) less(g Fraction) bool {
	return f.Num*g.Den < g.Num*f.Den
}

// atLeast returns the least whole number k with k/total >= f, i.e.
// ceil(f × total).
func (f Fraction) atLeast(total int) int {
	if f.IsZero() {
		return 0
	}
	p := int64(f.Num) * int64(total)
	return int((p + int64(f.Den) - 1) / int64(f.Den))
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
