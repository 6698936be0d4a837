package calendar

import (
	"math"
	"sync"
	"time"

	"github.com/6tail/lunar-go/ShouXingUtil"
	"github.com/6tail/lunar-go/calendar"
	"github.com/rickar/cal/v2"
)

// China's, Hong Kong's, Taiwan's and Singapore's lunisolar holidays are
// computed with 6tail/lunar-go, a maintained Chinese calendar library (new
// moons and solar terms for Beijing's meridian, UTC+8, as China's official
// calendar and the Hong Kong and Taiwan observatories reckon them);
// rickar/cal has no such calendar.

// lunarDay is the holiday on day of month (1-12) of the Chinese year that
// begins in the Gregorian year asked for, moved by shift days (-1 for an
// eve), kept from start to end (0: no bound).
func lunarDay(name string, month, day, shift, start, end int) *cal.Holiday {
	return &cal.Holiday{
		Name:      name,
		Type:      cal.ObservancePublic,
		StartYear: start,
		EndYear:   end,
		Func: memo(func(year int) time.Time {
			return dateOf(calendar.NewLunarFromYmd(year, month, day).GetSolar().NextDay(shift))
		}),
	}
}

// qingming is the day of the Qingming solar term, in early April.
var qingming = &cal.Holiday{
	Name:      "清明节",
	Type:      cal.ObservancePublic,
	StartYear: 2008,
	Func: memo(func(year int) time.Time {
		s, ok := calendar.NewSolarFromYmd(year, 4, 1).GetLunar().GetJieQiTable()["清明"]
		if !ok {
			return time.Time{}
		}
		return dateOf(s)
	}),
}

// memo keeps each year's date once computed: computing a lunar year is
// costly, and a condition asks for the same few years again and again.
func memo(f func(year int) time.Time) cal.HolidayFn {
	var years sync.Map // int → time.Time
	return func(_ *cal.Holiday, year int) time.Time {
		if t, ok := years.Load(year); ok {
			return t.(time.Time)
		}
		t := f(year)
		years.Store(year, t)
		return t
	}
}

func dateOf(s *calendar.Solar) time.Time {
	return time.Date(s.GetYear(), time.Month(s.GetMonth()), s.GetDay(), 0, 0, 0, 0, time.UTC)
}

// lunisolarCN are China's statutory holidays of the lunisolar calendar
// (Measures on National Holidays and Memorial Days, art. 2, as revised in
// 2007, 2013 and 2024): the Spring Festival is the first three days until
// 2007, Eve and the first two days from 2008, the first three days from
// 2014, Eve and the first three days from 2025; Qingming, the Dragon Boat
// Festival (5th of the 5th month) and Mid-Autumn (15th of the 8th month)
// are holidays from 2008.
var lunisolarCN = []*cal.Holiday{
	lunarDay("除夕", 1, 1, -1, 2008, 2013),
	lunarDay("除夕", 1, 1, -1, 2025, 0),
	lunarDay("春节", 1, 1, 0, 0, 0),
	lunarDay("春节", 1, 2, 0, 0, 0),
	lunarDay("春节", 1, 3, 0, 0, 2007),
	lunarDay("春节", 1, 3, 0, 2014, 0),
	qingming,
	lunarDay("端午节", 5, 5, 0, 2008, 0),
	lunarDay("中秋节", 8, 15, 0, 2008, 0),
}

// lunisolarSG is Singapore's Chinese New Year, two days (Holidays Act, First
// Schedule); when the first is a Sunday the Tuesday after is a holiday, and
// when the second is, the Monday (section 4).
var lunisolarSG = []*cal.Holiday{
	withObserved(lunarDay("Chinese New Year", 1, 1, 0, 0, 0), []cal.AltDay{{Day: time.Sunday, Offset: 2}}),
	withObserved(lunarDay("Chinese New Year", 1, 2, 0, 0, 0), sundayToMonday),
}

func withObserved(h *cal.Holiday, alt []cal.AltDay) *cal.Holiday {
	h.Observed = alt
	return h
}

// Korea's and Vietnam's calendars follow China's rules, reckoned for their
// own meridians: Korea's at UTC+9 (as the Korea Astronomy and Space Science
// Institute computes it), Vietnam's at UTC+7 (since 1968; China's before
// then). A new moon or a solar term in
// the hour after midnight at one meridian falls on the day before at the
// next one west, so their months, and now and then a leap month, start a
// day apart from China's. No maintained Go library computes these two
// calendars (lunar-go reckons for Beijing only), so lunisolar holds the
// rules, on lunar-go's solar terms (ShouXingUtil.QiAccurate) and ΔT
// (ShouXingUtil.DtT). lunar-go's precise new moons are internal to it (it
// exports them only as Beijing days), so newMoon computes them by Meeus's
// series (Astronomical Algorithms, 2nd ed., ch. 49; within 20 seconds of
// lunar-go's over 1900–2100). Reckoned at UTC+8, the rules give lunar-go's
// Chinese dates (TestLunisolarAgreesWithChina). Instants are days from
// J2000.0 (2000-01-01 12:00), in UT.

// lunisolar is the Chinese calendar's rules reckoned at a UTC offset: a
// month starts on the civil day holding the new moon, the month holding the
// winter solstice is the 11th, and in a year of 13 months (from one 11th
// month to the next) the first month without a major solar term is the
// leap month, numbered as the month before it.
type lunisolar struct {
	offset float64 // hours east of UTC
	years  *sync.Map
}

var (
	lunisolarKR = lunisolar{offset: 9, years: &sync.Map{}}
	lunisolarVN = lunisolar{offset: 7, years: &sync.Map{}}
)

// day is the civil day of instant t, counted from 2000-01-01.
func (c lunisolar) day(t float64) int {
	return int(math.Floor(t + c.offset/24 + 0.5))
}

// date is the Gregorian date of day month/day (months 1 to 10, not leap)
// of the lunar year that begins in Gregorian year year.
func (c lunisolar) date(year, month, day int) time.Time {
	starts, ok := c.years.Load(year)
	if !ok {
		starts, _ = c.years.LoadOrStore(year, c.monthStarts(year))
	}
	return time.Date(2000, time.January, 1+starts.([]int)[month-1]+day-1, 0, 0, 0, 0, time.UTC)
}

// monthStarts are the first days of months 1 to 10 of the lunar year that
// begins in Gregorian year year, all of them in the 12 or 13 months from
// the 11th month holding December of year-1's winter solstice to the next.
func (c lunisolar) monthStarts(year int) []int {
	// The sun's apparent longitude as lunar-go counts it: 0 at the March
	// equinox of 1999, 2π more each year.
	solstice := 3*math.Pi/2 + float64(year-2000)*2*math.Pi
	term := func(w float64) int { return c.day(ShouXingUtil.QiAccurate(w) - 1.0/3) } // Beijing time to UT
	k := c.monthOf(term(solstice))
	n := c.monthOf(term(solstice+2*math.Pi)) - k // 12 or 13 months
	leap := n + 1                                // index of the leap month in this span; none
	if n == 13 {
		major := 1 // the major solar terms, every 30° from the solstice
		for i := 1; i < n; i++ {
			for term(solstice+float64(major)*math.Pi/6) < c.day(newMoon(k+i)) {
				major++
			}
			if term(solstice+float64(major)*math.Pi/6) >= c.day(newMoon(k+i+1)) {
				leap = i
				break
			}
		}
	}
	starts := make([]int, 10)
	for m := range starts {
		i := m + 2 // months 11 and 12 come first
		if leap <= i {
			i++
		}
		starts[m] = c.day(newMoon(k + i))
	}
	return starts
}

// monthOf is the number of the new moon (as newMoon counts) that starts the
// month holding civil day d.
func (c lunisolar) monthOf(d int) int {
	k := int(math.Floor((float64(d) - 5.6) / synodicMonth))
	for c.day(newMoon(k+1)) <= d {
		k++
	}
	for c.day(newMoon(k)) > d {
		k--
	}
	return k
}

const synodicMonth = 29.530588861

// newMoon is the instant of new moon number k, counted from that of
// 2000-01-06 (Meeus, ch. 49).
func newMoon(k int) float64 {
	rad := math.Pi / 180
	kf := float64(k)
	t := kf / 1236.85
	jde := 2451550.09766 + synodicMonth*kf + t*t*(0.00015437+t*(-0.000000150+t*0.00000000073))
	e := 1 - t*(0.002516+t*0.0000074)
	m := rad * (2.5534 + 29.10535670*kf - t*t*(0.0000014+t*0.00000011))
	mm := rad * (201.5643 + 385.81693528*kf + t*t*(0.0107582+t*(0.00001238-t*0.000000058)))
	f := rad * (160.7108 + 390.67050284*kf - t*t*(0.0016118+t*(0.00000227-t*0.000000011)))
	om := rad * (124.7746 - 1.56375588*kf + t*t*(0.0020672+t*0.00000215))
	sin := math.Sin
	jde += -0.40720*sin(mm) + 0.17241*e*sin(m) + 0.01608*sin(2*mm) + 0.01039*sin(2*f) +
		0.00739*e*sin(mm-m) - 0.00514*e*sin(mm+m) + 0.00208*e*e*sin(2*m) - 0.00111*sin(mm-2*f) -
		0.00057*sin(mm+2*f) + 0.00056*e*sin(2*mm+m) - 0.00042*sin(3*mm) + 0.00042*e*sin(m+2*f) +
		0.00038*e*sin(m-2*f) - 0.00024*e*sin(2*mm-m) - 0.00017*sin(om) - 0.00007*sin(mm+2*m) +
		0.00004*sin(2*mm-2*f) + 0.00004*sin(3*m) + 0.00003*sin(mm+m-2*f) + 0.00003*sin(2*mm+2*f) -
		0.00003*sin(mm+m+2*f) + 0.00003*sin(mm-m+2*f) - 0.00002*sin(mm-m-2*f) - 0.00002*sin(3*mm+m) +
		0.00002*sin(4*mm)
	// Planetary arguments: A1 … A14, their rates and amplitudes.
	planets := [14][3]float64{
		{299.77, 0.107408, 0.000325}, {251.88, 0.016321, 0.000165}, {251.83, 26.651886, 0.000164},
		{349.42, 36.412478, 0.000126}, {84.66, 18.206239, 0.000110}, {141.74, 53.303771, 0.000062},
		{207.14, 2.453732, 0.000060}, {154.84, 7.306860, 0.000056}, {34.52, 27.261239, 0.000047},
		{207.19, 0.121824, 0.000042}, {291.34, 1.844379, 0.000040}, {161.72, 24.198154, 0.000037},
		{239.56, 25.513099, 0.000035}, {331.55, 3.592518, 0.000023},
	}
	for i, p := range planets {
		a := p[0] + p[1]*kf
		if i == 0 {
			a -= 0.009173 * t * t
		}
		jde += p[2] * sin(rad*a)
	}
	d := jde - 2451545
	return d - ShouXingUtil.DtT(d)
}
