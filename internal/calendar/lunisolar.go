package calendar

import (
	"sync"
	"time"

	"github.com/6tail/lunar-go/calendar"
	"github.com/rickar/cal/v2"
)

// China's and Singapore's lunisolar holidays are computed with 6tail/lunar-go, a maintained
// Chinese calendar library (new moons and solar terms for Beijing's
// meridian, as China's official calendar reckons them); rickar/cal has no
// such calendar.

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
