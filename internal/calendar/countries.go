package calendar

import (
	"slices"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
	"github.com/rickar/cal/v2/lu"
)

// The calendars below are for countries rickar/cal has no package for, or
// gets wrong (MX, LU), written on rickar/cal's building blocks: we found
// no maintained Go library for them. Each holds the holidays a rule fixes:
// a date in the Gregorian calendar, Easter, the Chinese calendar's dates
// (lunisolar.go), and the substitute days the law ties to them. Holidays
// of the Hijri and Hindu calendars, and days a government declares for one
// year (elections, bridge days), are left out: their dates come from yearly official announcements, moon sightings
// or a calendar no Go library computes, and a wrong date would fire a
// condition on an ordinary working day. The tests name the official source
// each table was checked against.

// fixed is a holiday on the same day of the same month every year, from
// start (0: always), moved by observed when that day is a weekend day.
func fixed(name string, m time.Month, day, start int, observed []cal.AltDay) *cal.Holiday {
	return &cal.Holiday{
		Name:      name,
		Type:      cal.ObservancePublic,
		Month:     m,
		Day:       day,
		StartYear: start,
		Observed:  observed,
		Func:      cal.CalcDayOfMonth,
	}
}

var (
	// sundayToMonday moves a holiday on a Sunday to the Monday after.
	sundayToMonday = []cal.AltDay{{Day: time.Sunday, Offset: 1}}
	// weekendToMonday moves a holiday on a Saturday or a Sunday to the
	// Monday after.
	weekendToMonday = []cal.AltDay{{Day: time.Saturday, Offset: 2}, {Day: time.Sunday, Offset: 1}}
)

// holidaysCN are China's statutory holidays (Measures on National Holidays
// and Memorial Days, art. 2): those on fixed dates here, as revised in 2007
// (Labour Day one day instead of three) and 2024 (two days from 2025), and
// the lunisolar ones in lunisolar.go. The bridge days the State Council's
// yearly notice adds, and the weekends it makes working days in their
// place, are announced each year, so they are not here.
var holidaysCN = slices.Concat([]*cal.Holiday{
	fixed("New Year's Day", time.January, 1, 0, nil),
	fixed("Labour Day", time.May, 1, 0, nil),
	until(fixed("Labour Day", time.May, 2, 0, nil), 2007),
	fixed("Labour Day", time.May, 2, 2025, nil),
	until(fixed("Labour Day", time.May, 3, 0, nil), 2007),
	fixed("National Day", time.October, 1, 0, nil),
	fixed("National Day", time.October, 2, 0, nil),
	fixed("National Day", time.October, 3, 0, nil),
}, lunisolarCN)

// until sets the last year h is kept.
func until(h *cal.Holiday, last int) *cal.Holiday {
	h.EndYear = last
	return h
}

// from sets the first year h is kept.
func from(h *cal.Holiday, first int) *cal.Holiday {
	h.StartYear = first
	return h
}

// public is one of rickar/cal's common holidays (aa) as a public holiday.
func public(h *cal.Holiday) *cal.Holiday {
	return h.Clone(&cal.Holiday{Type: cal.ObservancePublic})
}

// holidaysIN are India's three national holidays and the two compulsory
// central government holidays a rule fixes (Christmas, Good Friday). The
// other compulsory ones (Diwali, Dussehra, Eid, Buddha Purnima, …) follow
// the Hindu, Hijri or Buddhist calendars and are gazetted each year; the
// states add their own.
var holidaysIN = []*cal.Holiday{
	fixed("Republic Day", time.January, 26, 0, nil),
	public(aa.GoodFriday),
	fixed("Independence Day", time.August, 15, 0, nil),
	fixed("Gandhi Jayanti", time.October, 2, 0, nil),
	fixed("Christmas Day", time.December, 25, 0, nil),
}

// holidaysKR are South Korea's holidays, on solar and lunar dates, with
// the substitutes the law gives them (asia.go).
var holidaysKR = krHolidays.calendar("Substitute Holiday")

// holidaysSG are Singapore's public holidays on fixed dates, Easter and
// Chinese New Year (Holidays Act, First Schedule; the latter in
// lunisolar.go), with the Monday after as a holiday when one falls on a
// Sunday (section 4). Hari Raya Puasa, Hari Raya Haji, Vesak Day and
// Deepavali are gazetted each year by the Ministry of Manpower from the
// Hijri, Buddhist and Hindu calendars.
var holidaysSG = slices.Concat([]*cal.Holiday{
	fixed("New Year's Day", time.January, 1, 0, sundayToMonday),
	public(aa.GoodFriday),
	fixed("Labour Day", time.May, 1, 0, sundayToMonday),
	fixed("National Day", time.August, 9, 0, sundayToMonday),
	fixed("Christmas Day", time.December, 25, 0, sundayToMonday),
}, lunisolarSG)

// holidaysTR are Turkey's national and general holidays on fixed dates
// (Law No. 2429), without weekend substitutes, as the law gives none.
// Ramazan and Kurban Bayramı follow the Hijri calendar, dated each year by
// the Presidency of Religious Affairs; the afternoon of 28 October is a
// half day, which a whole-day condition cannot express.
var holidaysTR = []*cal.Holiday{
	fixed("New Year's Day", time.January, 1, 0, nil),
	fixed("National Sovereignty and Children's Day", time.April, 23, 0, nil),
	fixed("Labour and Solidarity Day", time.May, 1, 0, nil),
	fixed("Commemoration of Atatürk, Youth and Sports Day", time.May, 19, 0, nil),
	fixed("Democracy and National Unity Day", time.July, 15, 2017, nil),
	fixed("Victory Day", time.August, 30, 0, nil),
	fixed("Republic Day", time.October, 29, 0, nil),
}

// weekdayN is the nth weekday of month m.
func weekdayN(name string, m time.Month, wd time.Weekday, n int) *cal.Holiday {
	return &cal.Holiday{
		Name:    name,
		Type:    cal.ObservancePublic,
		Month:   m,
		Weekday: wd,
		Offset:  n,
		Func:    cal.CalcWeekdayOffset,
	}
}

// holidaysMX are Mexico's mandatory rest days (Federal Labour Law, art.
// 74), written here rather than taken from rickar/cal, whose Mexico still
// keeps Constitution Day and Juárez's birthday on their dates with weekend
// substitutes, as before the 2006 reform that moved them to Mondays. The
// day of the presidential handover, every six years, is 1 October from
// 2024 (1 December before); election days a law declares are not here.
var holidaysMX = []*cal.Holiday{
	fixed("Año Nuevo", time.January, 1, 0, nil),
	weekdayN("Día de la Constitución", time.February, time.Monday, 1),
	weekdayN("Natalicio de Benito Juárez", time.March, time.Monday, 3),
	fixed("Día del Trabajo", time.May, 1, 0, nil),
	fixed("Día de la Independencia", time.September, 16, 0, nil),
	handover,
	weekdayN("Día de la Revolución", time.November, time.Monday, 3),
	fixed("Navidad", time.December, 25, 0, nil),
}

// handover is the day Mexico's president takes office, a rest day in the
// years it happens.
var handover = &cal.Holiday{
	Name: "Transmisión del Poder Ejecutivo Federal",
	Type: cal.ObservancePublic,
	Func: func(_ *cal.Holiday, year int) time.Time {
		switch {
		case (year-2024)%6 != 0: // terms began in 2018, 2024, 2030, …
			return time.Time{}
		case year >= 2024:
			return time.Date(year, time.October, 1, 0, 0, 0, 0, time.UTC)
		default:
			return time.Date(year, time.December, 1, 0, 0, 0, 0, time.UTC)
		}
	},
}

// holidaysLU are rickar/cal's Luxembourg holidays with Europe Day, a public
// holiday from 2019 (law of 26 March 2019) that rickar/cal lacks.
var holidaysLU = append(slices.Clone(lu.Holidays), fixed("Europe Day", time.May, 9, 2019, nil))

// mondayAfter is the first Monday on or after t.
func mondayAfter(t time.Time) time.Time {
	return t.AddDate(0, 0, (int(time.Monday)-int(t.Weekday())+7)%7)
}

// emiliani is a Colombian holiday moved to the Monday on or after its date
// (Law 51 of 1983); the date itself is then a working day. A zero day
// means an Easter offset instead of a date.
func emiliani(name string, m time.Month, day, easter int) *cal.Holiday {
	h := &cal.Holiday{Name: name, Type: cal.ObservancePublic, Month: m, Day: day, Offset: easter}
	h.Func = func(h *cal.Holiday, year int) time.Time {
		if h.Day == 0 {
			return mondayAfter(cal.CalcEasterOffset(h, year))
		}
		return mondayAfter(cal.CalcDayOfMonth(h, year))
	}
	return h
}

// easter is a holiday offset days from Easter Sunday.
func easter(name string, offset int) *cal.Holiday {
	return &cal.Holiday{Name: name, Type: cal.ObservancePublic, Offset: offset, Func: cal.CalcEasterOffset}
}

// holidaysCO are Colombia's holidays (Law 51 of 1983, and the national
// days of 20 July and 7 August): eleven of them move to the next Monday,
// none has a weekend substitute.
var holidaysCO = []*cal.Holiday{
	fixed("Año Nuevo", time.January, 1, 0, nil),
	emiliani("Día de los Reyes Magos", time.January, 6, 0),
	emiliani("Día de San José", time.March, 19, 0),
	easter("Jueves Santo", -3),
	easter("Viernes Santo", -2),
	fixed("Día del Trabajo", time.May, 1, 0, nil),
	emiliani("Ascensión del Señor", 0, 0, 39),
	emiliani("Corpus Christi", 0, 0, 60),
	emiliani("Sagrado Corazón", 0, 0, 68),
	emiliani("San Pedro y San Pablo", time.June, 29, 0),
	fixed("Día de la Independencia", time.July, 20, 0, nil),
	fixed("Batalla de Boyacá", time.August, 7, 0, nil),
	emiliani("La Asunción de la Virgen", time.August, 15, 0),
	emiliani("Día de la Raza", time.October, 12, 0),
	emiliani("Todos los Santos", time.November, 1, 0),
	emiliani("Independencia de Cartagena", time.November, 11, 0),
	fixed("Inmaculada Concepción", time.December, 8, 0, nil),
	fixed("Navidad", time.December, 25, 0, nil),
}
