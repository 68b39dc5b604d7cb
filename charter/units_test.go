package charter

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		str  string
	}{
		{"14d", 14 * day, "14d"},
		{"72h", 72 * time.Hour, "3d"},
		{"30m", 30 * time.Minute, "30m"},
		{"2w", 14 * day, "14d"},
		{"1d12h", 36 * time.Hour, "36h"},
		{"90m", 90 * time.Minute, "90m"},
		{"1h30m", 90 * time.Minute, "90m"},
		{"45s", 45 * time.Second, "45s"},
		{"0", 0, "0d"},
		{"0d", 0, "0d"},
		{"3650d", 3650 * day, "3650d"},
		{"1w2d3h4m5s", 9*day + 3*time.Hour + 4*time.Minute + 5*time.Second, "788645s"},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || time.Duration(got) != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, time.Duration(got), err, tc.want)
			continue
		}
		if s := got.String(); s != tc.str {
			t.Errorf("ParseDuration(%q).String() = %q, want %q", tc.in, s, tc.str)
		}
		if back, err := ParseDuration(got.String()); err != nil || back != got {
			t.Errorf("ParseDuration(%q) = %v, %v; does not round-trip", got.String(), back, err)
		}
	}
	for _, bad := range []string{"", "14", "d", "14x", "-1d", "+1d", "1.5d", "12h1d", "1d1d", "14 d", " 14d", "14d ", "1234567890d", "3651d", "600w"} {
		if d, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", bad, d)
		}
	}
}

func TestDurationText(t *testing.T) {
	var v struct{ W Duration }
	if err := json.Unmarshal([]byte(`{"W":"2w"}`), &v); err != nil || v.W != days(14) {
		t.Fatalf("json.Unmarshal = %v, %v", v.W, err)
	}
	out, err := json.Marshal(v)
	if err != nil || string(out) != `{"W":"14d"}` {
		t.Errorf("json.Marshal = %s, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"W":"2 weeks"}`), &v); err == nil {
		t.Error("json.Unmarshal of a bad duration succeeded")
	}
	if got := Duration(1500 * time.Millisecond).String(); got != "1.5s" {
		t.Errorf("String of 1.5s = %q", got)
	}
}

func TestParseFraction(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Fraction
	}{
		{"2/3", Fraction{2, 3}},
		{"1/2", Fraction{1, 2}},
		{"0/1", Fraction{0, 1}},
		{"1/1", Fraction{1, 1}},
		{"1000/1000", Fraction{1000, 1000}},
	} {
		got, err := ParseFraction(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseFraction(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
	}
	for _, bad := range []string{"3/2", "1/0", "0/0", "a/b", "1/2/3", "", "2/3 ", "-1/2", "1/-2", "0.5", "1", "/2", "2/", "1/1001", "99999/99999"} {
		if f, err := ParseFraction(bad); err == nil {
			t.Errorf("ParseFraction(%q) = %v, want an error", bad, f)
		}
	}
	if !(Fraction{}).IsZero() || (Fraction{0, 1}).IsZero() {
		t.Error("IsZero wrong")
	}
	var f Fraction
	if err := f.UnmarshalText([]byte("2/3")); err != nil || f != (Fraction{2, 3}) {
		t.Errorf("UnmarshalText = %v, %v", f, err)
	}
	if err := f.UnmarshalText(nil); err != nil || !f.IsZero() {
		t.Errorf("UnmarshalText(empty) = %v, %v", f, err)
	}
	if (Fraction{1, 2}).atLeast(5) != 3 || (Fraction{2, 3}).atLeast(9) != 6 || (Fraction{}).atLeast(9) != 0 {
		t.Error("atLeast wrong")
	}
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct {
		got   string
		known []string
		want  string
	}{
		{"goverment", []string{"government", "civil-society"}, ` (did you mean "government"?)`},
		{"xyz", []string{"a", "b"}, " (known: a, b)"},
		{"xyz", nil, ""},
	} {
		if s := suggest(tc.got, tc.known); s != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.got, s, tc.want)
		}
	}
}
