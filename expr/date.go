package expr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// namedFormats are Kestra's date format shortcuts (AbstractDate.FORMATTERS).
var namedFormats = map[string]string{
	"iso":                  "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
	"iso_sec":              "yyyy-MM-dd'T'HH:mm:ssXXX",
	"sql":                  "yyyy-MM-dd HH:mm:ss.SSSSSS",
	"sql_seq":              "yyyy-MM-dd HH:mm:ss",
	"iso_date_time":        "yyyy-MM-dd'T'HH:mm:ss[.n]XXX'['VV']'",
	"iso_zoned_date_time":  "yyyy-MM-dd'T'HH:mm:ss[.n]XXX'['VV']'",
	"iso_offset_date_time": "yyyy-MM-dd'T'HH:mm:ss[.n]XXX",
	"iso_date":             "yyyy-MM-ddXXX",
	"iso_time":             "HH:mm:ss[.n]XXX",
	"iso_local_date":       "yyyy-MM-dd",
	"iso_instant":          "INSTANT",
	"iso_local_date_time":  "yyyy-MM-dd'T'HH:mm:ss[.n]",
	"iso_local_time":       "HH:mm:ss[.n]",
	"iso_offset_time":      "HH:mm:ss[.n]XXX",
	"iso_ordinal_date":     "yyyy-DDDXXX",
	"iso_week_date":        "YYYY-'W'ww-eXXX",
	"rfc_1123_date_time":   "EEE, d MMM yyyy HH:mm:ss 'GMT'",
	"full":                 "EEEE, MMMM d, yyyy 'at' h:mm:ss a zzzz",
	"long":                 "MMMM d, yyyy 'at' h:mm:ss a z",
	"medium":               "MMM d, yyyy, h:mm:ss a",
	"short":                "M/d/yy, h:mm a",
}

func zone(name string, def *time.Location) (*time.Location, error) {
	if name == "" {
		return def, nil
	}
	if name == "Z" || name == "UTC" {
		return time.UTC, nil
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc, nil
	}
	// Fixed offsets such as +02:00.
	if t, err := time.Parse("-07:00", name); err == nil {
		_, off := t.Zone()
		return time.FixedZone(name, off), nil
	}
	return nil, fmt.Errorf("unknown time zone %q", name)
}

// dateArgs reads the format, timeZone and existingFormat arguments, starting
// at position first (date: 0, dateAdd: 2).
func dateArgs(st *state, a Args, first int) (format string, loc *time.Location, existing string, err error) {
	format = "iso"
	if f, ok := a.Get(first, "format"); ok && f != nil {
		format = toString(f)
	}
	tz, _ := a.Get(first+1, "timeZone")
	loc, err = zone(toString(tz), st.eng.loc)
	if e, ok := a.Get(first+2, "existingFormat"); ok && e != nil {
		existing = toString(e)
	}
	return format, loc, existing, err
}

// toTime converts what Kestra's AbstractDate.convert accepts: a date, an
// epoch in seconds, or an ISO-8601 string (or one in existingFormat).
func toTime(v any, loc *time.Location, existing string) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case int64:
		return time.Unix(x, 0).In(loc), nil
	case float64:
		sec := int64(x)
		return time.Unix(sec, int64((x-float64(sec))*1e9)).In(loc), nil
	case string:
		if existing != "" {
			return parseJavaTime(x, existing, loc)
		}
		return parseISO(x, loc)
	case nil:
		return time.Time{}, errors.New("date is null")
	}
	return time.Time{}, fmt.Errorf("cannot convert %s to a date", typeName(v))
}

func parseISO(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	zoneName := ""
	if i := strings.IndexByte(s, '['); i > 0 && strings.HasSuffix(s, "]") {
		zoneName = s[i+1 : len(s)-1]
		s = s[:i]
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			if zoneName != "" {
				if l, err := time.LoadLocation(zoneName); err == nil {
					t = t.In(l)
				}
			}
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			if layout == "2006-01-02" {
				t = t.Add(12 * time.Hour) // LocalDate → noon, as Kestra
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO-8601 date", s)
}

// parseJavaTime parses with a DateTimeFormatter pattern by translating it to
// a Go layout.
func parseJavaTime(s, pattern string, loc *time.Location) (time.Time, error) {
	if p, ok := namedFormats[pattern]; ok {
		if p == "INSTANT" {
			return parseISO(s, loc)
		}
		pattern = p
	}
	layout, err := goLayout(pattern)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse %q with %q: %w", s, pattern, err)
	}
	return t, nil
}

// goLayout translates the subset of DateTimeFormatter letters Go can parse.
func goLayout(p string) (string, error) {
	var b strings.Builder
	err := walkPattern(p, func(lit string) { b.WriteString(lit) }, func(c byte, n int) error {
		m := map[string]string{
			"yyyy": "2006", "uuuu": "2006", "yy": "06", "y": "2006", "u": "2006",
			"MMMM": "January", "MMM": "Jan", "MM": "01", "M": "1",
			"dd": "02", "d": "2", "HH": "15", "hh": "03", "h": "3", "mm": "04", "m": "4",
			"ss": "05", "s": "5", "a": "PM", "EEEE": "Monday", "EEE": "Mon", "E": "Mon",
			"XXX": "Z07:00", "XX": "Z0700", "X": "Z07", "xxx": "-07:00", "xx": "-0700", "Z": "-0700",
			"z": "MST", "DDD": "002",
		}
		key := strings.Repeat(string(c), n)
		if c == 'S' || c == 'n' {
			b.WriteString(strings.Repeat("9", max(n, 1)))
			return nil
		}
		if v, ok := m[key]; ok {
			b.WriteString(v)
			return nil
		}
		return fmt.Errorf("date pattern letter %q is not supported for parsing", key)
	})
	// Go wants fractional seconds after the separator: "05.999".
	return b.String(), err
}

// walkPattern splits a DateTimeFormatter pattern into literals and letter
// runs; '[' and ']' (optional sections) are dropped.
func walkPattern(p string, lit func(string), field func(c byte, n int) error) error {
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(p) {
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(p[j])
				j++
			}
			if j == i+1 && j < len(p) {
				lit("'")
			}
			lit(b.String())
			i = j + 1
		case c == '[' || c == ']':
			i++
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			if err := field(c, j-i); err != nil {
				return err
			}
			i = j
		default:
			lit(string(c))
			i++
		}
	}
	return nil
}

// formatJava formats t with a DateTimeFormatter pattern.
func formatJava(t time.Time, p string) (string, error) {
	if named, ok := namedFormats[p]; ok {
		if named == "INSTANT" {
			return t.UTC().Format("2006-01-02T15:04:05.999999999Z"), nil
		}
		p = named
	}
	var b strings.Builder
	pad := func(v, n int) {
		s := strconv.Itoa(v)
		for i := len(s); i < n; i++ {
			b.WriteByte('0')
		}
		b.WriteString(s)
	}
	err := walkPattern(p, func(s string) { b.WriteString(s) }, func(c byte, n int) error {
		switch c {
		case 'y', 'u', 'Y':
			y := t.Year()
			if c == 'Y' {
				y, _ = t.ISOWeek()
			}
			if n == 2 {
				pad(y%100, 2)
			} else {
				pad(y, n)
			}
		case 'M', 'L':
			switch {
			case n >= 4:
				b.WriteString(t.Month().String())
			case n == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				pad(int(t.Month()), n)
			}
		case 'd':
			pad(t.Day(), n)
		case 'D':
			pad(t.YearDay(), n)
		case 'w':
			_, w := t.ISOWeek()
			pad(w, n)
		case 'e':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			pad(wd, n)
		case 'E':
			if n >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'H':
			pad(t.Hour(), n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			pad(h, n)
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			pad(h, n)
		case 'K':
			pad(t.Hour()%12, n)
		case 'm':
			pad(t.Minute(), n)
		case 's':
			pad(t.Second(), n)
		case 'S':
			frac := fmt.Sprintf("%09d", t.Nanosecond())
			if n <= 9 {
				b.WriteString(frac[:n])
			} else {
				b.WriteString(frac + strings.Repeat("0", n-9))
			}
		case 'n':
			if p == namedFormats["iso_local_time"] || strings.Contains(p, "[.n]") {
				// ISO formatters print the fraction only when non-zero, trimmed to 3/6/9 digits.
				trimISOFraction(&b, t)
				return nil
			}
			b.WriteString(strconv.Itoa(t.Nanosecond()))
		case 'A':
			pad(int(t.Sub(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())).Milliseconds()), n)
		case 'X', 'x', 'Z':
			_, off := t.Zone()
			if c == 'X' && off == 0 {
				b.WriteByte('Z')
				return nil
			}
			sign := '+'
			if off < 0 {
				sign = '-'
				off = -off
			}
			h, m := off/3600, off%3600/60
			b.WriteRune(sign)
			pad(h, 2)
			switch {
			case c == 'Z' && n <= 3:
				pad(m, 2)
			case n == 1:
				if m != 0 {
					pad(m, 2)
				}
			case n == 2:
				pad(m, 2)
			default:
				b.WriteByte(':')
				pad(m, 2)
			}
		case 'z':
			name, _ := t.Zone()
			b.WriteString(name)
		case 'V':
			b.WriteString(t.Location().String())
		case 'O':
			_, off := t.Zone()
			if off == 0 {
				b.WriteString("GMT")
				return nil
			}
			b.WriteString("GMT" + t.Format("-07:00"))
		case 'G':
			b.WriteString("AD")
		case 'Q', 'q':
			pad((int(t.Month())-1)/3+1, n)
		default:
			return fmt.Errorf("unknown date pattern letter %q", string(c))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return b.String(), nil
}

// trimISOFraction removes the "." that walkPattern kept for "[.n]" when the
// fraction is zero, and prints 3, 6 or 9 digits otherwise, as ISO_LOCAL_TIME.
func trimISOFraction(b *strings.Builder, t time.Time) {
	s := b.String()
	ns := t.Nanosecond()
	if ns == 0 {
		b.Reset()
		b.WriteString(strings.TrimSuffix(s, "."))
		return
	}
	frac := fmt.Sprintf("%09d", ns)
	switch {
	case ns%1e6 == 0:
		frac = frac[:3]
	case ns%1e3 == 0:
		frac = frac[:6]
	}
	b.WriteString(frac)
}

func fDate(st *state, in any, a Args) (any, error) {
	if in == nil {
		return nil, nil
	}
	format, loc, existing, err := dateArgs(st, a, 0)
	if err != nil {
		return nil, err
	}
	t, err := toTime(in, loc, existing)
	if err != nil {
		return nil, err
	}
	return formatJava(t.In(loc), format)
}

var chronoUnits = map[string]time.Duration{
	"NANOS": time.Nanosecond, "MICROS": time.Microsecond, "MILLIS": time.Millisecond,
	"SECONDS": time.Second, "MINUTES": time.Minute, "HOURS": time.Hour, "HALF_DAYS": 12 * time.Hour,
}

// fDateAdd adds amount of unit (a ChronoUnit name) and formats the result.
func fDateAdd(st *state, in any, a Args) (any, error) {
	if in == nil {
		return nil, nil
	}
	av, _ := a.Get(0, "amount")
	uv, _ := a.Get(1, "unit")
	amount, ok := toInt(av)
	if !ok {
		return nil, errors.New("dateAdd expects an integer amount")
	}
	format, loc, existing, err := dateArgs(st, a, 2)
	if err != nil {
		return nil, err
	}
	t, err := toTime(in, loc, existing)
	if err != nil {
		return nil, err
	}
	t = t.In(loc)
	unit := toString(uv)
	if d, ok := chronoUnits[unit]; ok {
		t = t.Add(time.Duration(amount) * d)
	} else {
		n := int(amount)
		switch unit {
		case "DAYS":
			t = t.AddDate(0, 0, n)
		case "WEEKS":
			t = t.AddDate(0, 0, 7*n)
		case "MONTHS":
			t = addMonths(t, n)
		case "YEARS":
			t = addMonths(t, 12*n)
		case "DECADES":
			t = addMonths(t, 120*n)
		case "CENTURIES":
			t = addMonths(t, 1200*n)
		default:
			return nil, fmt.Errorf("unknown unit %q (use SECONDS, MINUTES, HOURS, DAYS, WEEKS, MONTHS, YEARS, …)", unit)
		}
	}
	return formatJava(t, format)
}

// addMonths clamps the day like Java's plusMonths (Jan 31 + 1 month = Feb 28/29).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

func fTimestamp(perSecond int64) builtinFilter {
	return func(st *state, in any, a Args) (any, error) {
		if in == nil {
			return nil, nil
		}
		tz, _ := a.Get(0, "timeZone")
		loc, err := zone(toString(tz), st.eng.loc)
		if err != nil {
			return nil, err
		}
		ef, _ := a.Get(1, "existingFormat")
		existing := toString(ef)
		t, err := toTime(in, loc, existing)
		if err != nil {
			return nil, err
		}
		switch perSecond {
		case 1:
			return t.Unix(), nil
		case 1e3:
			return t.UnixMilli(), nil
		case 1e6:
			return t.UnixMicro(), nil
		}
		return t.UnixNano(), nil
	}
}
