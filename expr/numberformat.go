package expr

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
)

// fNumberFormat is Pebble's numberformat: a java.text.DecimalFormat pattern
// such as "#,##0.00" or "0.###" (HALF_EVEN rounding, as DecimalFormat).
func fNumberFormat(_ *state, in any, a Args) (any, error) {
	if in == nil {
		return nil, nil
	}
	f, ok := toFloat(in)
	if !ok {
		return nil, fmt.Errorf("numberFormat expects a number, got %s", typeName(in))
	}
	pv, _ := a.Get(0, "format")
	return decimalFormat(f, toString(pv))
}

func decimalFormat(f float64, pattern string) (string, error) {
	if pattern == "" {
		pattern = "#,##0.###"
	}
	if i := strings.IndexByte(pattern, ';'); i >= 0 {
		pattern = pattern[:i]
	}
	// Split prefix, number part and suffix.
	start := strings.IndexAny(pattern, "#0,.")
	if start < 0 {
		return "", errors.New("numberFormat pattern has no digits")
	}
	end := start
	for end < len(pattern) && strings.IndexByte("#0,.", pattern[end]) >= 0 {
		end++
	}
	prefix, num, suffix := pattern[:start], pattern[start:end], pattern[end:]
	percent := strings.Contains(suffix, "%") || strings.Contains(prefix, "%")
	if percent {
		f *= 100
	}
	intPart, fracPart, _ := strings.Cut(num, ".")
	minInt := strings.Count(intPart, "0")
	grouping := 0
	if i := strings.LastIndexByte(intPart, ','); i >= 0 {
		grouping = len(intPart) - i - 1
	}
	minFrac := strings.Count(fracPart, "0")
	maxFrac := len(fracPart)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return prefix + javaDouble(f) + suffix, nil
	}
	neg := f < 0
	r := new(big.Float).SetPrec(200).SetFloat64(math.Abs(f))
	// Round half-even to maxFrac digits through a decimal string.
	s := r.Text('f', maxFrac+20)
	s = roundHalfEven(s, maxFrac)
	ip, fp, _ := strings.Cut(s, ".")
	fp = strings.TrimRight(fp, "0")
	for len(fp) < minFrac {
		fp += "0"
	}
	ip = strings.TrimLeft(ip, "0")
	for len(ip) < minInt {
		ip = "0" + ip
	}
	if grouping > 0 && len(ip) > grouping {
		var b strings.Builder
		lead := len(ip) % grouping
		if lead > 0 {
			b.WriteString(ip[:lead])
		}
		for i := lead; i < len(ip); i += grouping {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(ip[i : i+grouping])
		}
		ip = b.String()
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if out == "" {
		out = "0"
	}
	if neg && strings.Trim(out, "0.,") != "" {
		out = "-" + out
	}
	return prefix + out + suffix, nil
}

// roundHalfEven rounds a non-negative decimal string to n fraction digits.
func roundHalfEven(s string, n int) string {
	ip, fp, _ := strings.Cut(s, ".")
	if len(fp) <= n {
		return s
	}
	keep, rest := fp[:n], fp[n:]
	digits := []byte(ip + keep)
	up := false
	switch {
	case rest[0] > '5':
		up = true
	case rest[0] == '5':
		if strings.Trim(rest[1:], "0") != "" {
			up = true
		} else {
			last := byte('0')
			if len(digits) > 0 {
				last = digits[len(digits)-1]
			}
			up = (last-'0')%2 == 1
		}
	}
	if up {
		i := len(digits) - 1
		for ; i >= 0; i-- {
			if digits[i] == '9' {
				digits[i] = '0'
				continue
			}
			digits[i]++
			break
		}
		if i < 0 {
			digits = append([]byte{'1'}, digits...)
		}
	}
	il := len(digits) - n
	if n == 0 {
		return string(digits)
	}
	return string(digits[:il]) + "." + string(digits[il:])
}
