package calendar

import (
	"time"

	"github.com/rickar/cal/v2"
)

// Israel's holidays follow the Hebrew calendar, which rickar/cal lacks.
// Unlike the Hijri calendar it is pure arithmetic, fixed since the fourth
// century: a year's first day (1 Tishrei) follows from the mean new moon
// (the molad) and four postponement rules, and every holiday is a fixed
// count of days from it. So it is written here, as Dershowitz and
// Reingold's Calendrical Calculations states it: hebcal-go, the Go library
// made for the Jewish calendar, is not on the Go module proxy, and the
// arithmetic is the few lines below.

// hebrewEpoch is 1 Tishrei of year 1 (7 October 3761 BCE, Julian) as a
// day count in which 1 January of year 1 (Gregorian) is day 1.
const hebrewEpoch = -1373427

// hebrewElapsedDays is the number of days from the epoch to the molad of
// Tishrei of year y, moved a day when it falls on Sunday, Wednesday or
// Friday (lo ADU rosh) or at noon or later (molad zaken, folded in by
// counting from 12084 parts).
func hebrewElapsedDays(y int) int {
	months := (235*y - 234) / 19 // 235 months in each 19-year cycle
	parts := 12084 + 13753*months
	days := 29*months + parts/25920
	if (3*(days+1))%7 < 3 {
		days++
	}
	return days
}

// hebrewNewYear is the day count of 1 Tishrei of year y, after the two
// postponements that keep every year 353-355 or 383-385 days long.
func hebrewNewYear(y int) int {
	prev, this, next := hebrewElapsedDays(y-1), hebrewElapsedDays(y), hebrewElapsedDays(y+1)
	switch {
	case next-this == 356:
		this += 2
	case this-prev == 382:
		this++
	}
	return hebrewEpoch + this
}

// roshHashana is the Gregorian date of 1 Tishrei in the autumn of year
// (the Hebrew year year+3761).
func roshHashana(year int) time.Time {
	const unixDay = 719163 // 1 January 1970 in the same count
	return time.Unix(int64(hebrewNewYear(year+3761)-unixDay)*86400, 0).UTC()
}

// hebrew is a holiday offset days from 1 Tishrei of its Gregorian year:
// the autumn holidays count forward (Yom Kippur, 10 Tishrei, is 9), the
// spring ones back, as the six months from Nisan to Elul always hold 177
// days (15 Nisan is 163 days before the next 1 Tishrei).
func hebrew(name string, offset int) *cal.Holiday {
	return &cal.Holiday{
		Name:   name,
		Type:   cal.ObservancePublic,
		Offset: offset,
		Func: memo(func(year int) time.Time {
			return roshHashana(year).AddDate(0, 0, offset)
		}),
	}
}

// independenceDay is Yom Ha'atzmaut, 5 Iyar (Independence Day Law, 1949),
// moved by the law's amendments so that neither it nor Memorial Day the
// day before touches the Sabbath: to Thursday when 5 Iyar is a Friday or a
// Saturday, and from 2004 to Tuesday when it is a Monday. 5 Iyar falls on
// no other day than those and Wednesday.
var independenceDay = &cal.Holiday{
	Name:      "Yom Ha'atzmaut",
	Type:      cal.ObservancePublic,
	StartYear: 1949,
	Func: memo(func(year int) time.Time {
		d := roshHashana(year).AddDate(0, 0, -143)
		switch d.Weekday() {
		case time.Friday:
			return d.AddDate(0, 0, -1)
		case time.Saturday:
			return d.AddDate(0, 0, -2)
		case time.Monday:
			if year >= 2004 {
				return d.AddDate(0, 0, 1)
			}
		}
		return d
	}),
}

// holidaysIL are Israel's days of rest (Law and Administration Ordinance,
// section 18A) and Independence Day. Each begins at the sunset before the
// date given here, which is the day off. Holiday eves (half days) and the
// intermediate days of Pesach and Sukkot are not days of rest; election
// days are declared for each election.
var holidaysIL = []*cal.Holiday{
	hebrew("Pesach", -163),
	hebrew("Shvi'i shel Pesach", -157),
	independenceDay,
	hebrew("Shavuot", -113),
	hebrew("Rosh Hashana", 0),
	hebrew("Rosh Hashana", 1),
	hebrew("Yom Kippur", 9),
	hebrew("Sukkot", 14),
	hebrew("Shemini Atzeret / Simchat Torah", 21),
}
