// Package calendar holds the calendar rules Kestra's conditions and date
// functions share: public holidays of a country or of one of its
// subdivisions (PublicHoliday, isPublicHoliday()), and the nth weekday of a
// month (DayWeekInMonth, isDayWeekInMonth()). The holiday calendars are
// rickar/cal's: Kestra's own (Jollyday) is a Java library, and rickar/cal is
// the maintained Go one, covering most countries below. Those it lacks or
// gets wrong are in countries.go, written on its building blocks.
package calendar

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/ar"
	"github.com/rickar/cal/v2/at"
	"github.com/rickar/cal/v2/au"
	"github.com/rickar/cal/v2/be"
	"github.com/rickar/cal/v2/bg"
	"github.com/rickar/cal/v2/br"
	"github.com/rickar/cal/v2/ca"
	"github.com/rickar/cal/v2/ch"
	"github.com/rickar/cal/v2/cy"
	"github.com/rickar/cal/v2/cz"
	"github.com/rickar/cal/v2/de"
	"github.com/rickar/cal/v2/dk"
	"github.com/rickar/cal/v2/ee"
	"github.com/rickar/cal/v2/es"
	"github.com/rickar/cal/v2/fi"
	"github.com/rickar/cal/v2/fr"
	"github.com/rickar/cal/v2/gb"
	"github.com/rickar/cal/v2/gr"
	"github.com/rickar/cal/v2/hr"
	"github.com/rickar/cal/v2/hu"
	"github.com/rickar/cal/v2/ie"
	"github.com/rickar/cal/v2/is"
	"github.com/rickar/cal/v2/it"
	"github.com/rickar/cal/v2/jp"
	"github.com/rickar/cal/v2/ke"
	"github.com/rickar/cal/v2/lt"
	"github.com/rickar/cal/v2/lv"
	"github.com/rickar/cal/v2/mt"
	"github.com/rickar/cal/v2/mw"
	"github.com/rickar/cal/v2/nc"
	"github.com/rickar/cal/v2/nl"
	"github.com/rickar/cal/v2/no"
	"github.com/rickar/cal/v2/nz"
	"github.com/rickar/cal/v2/pl"
	"github.com/rickar/cal/v2/pt"
	"github.com/rickar/cal/v2/ro"
	"github.com/rickar/cal/v2/rs"
	"github.com/rickar/cal/v2/ru"
	"github.com/rickar/cal/v2/se"
	"github.com/rickar/cal/v2/si"
	"github.com/rickar/cal/v2/sk"
	"github.com/rickar/cal/v2/th"
	"github.com/rickar/cal/v2/ua"
	"github.com/rickar/cal/v2/us"
	"github.com/rickar/cal/v2/za"
)

// calendars maps ISO 3166-1 alpha-2 codes, and ISO 3166-2 codes for the
// subdivisions whose holidays differ, to their holidays.
var calendars = map[string][]*cal.Holiday{
	"AD":     holidaysAD,
	"AR":     ar.Holidays,
	"AT":     at.Holidays,
	"BE":     be.Holidays,
	"BG":     bg.Holidays,
	"BR":     br.Holidays,
	"BY":     holidaysBY,
	"CA":     ca.Holidays,
	"CH":     ch.Holidays,
	"CL":     holidaysCL,
	"CO":     holidaysCO,
	"CR":     holidaysCR,
	"CN":     holidaysCN,
	"CY":     cy.Holidays,
	"CZ":     cz.Holidays,
	"DE":     de.Holidays,
	"DK":     dk.Holidays,
	"DO":     holidaysDO,
	"DZ":     holidaysDZ,
	"EC":     holidaysEC,
	"EE":     ee.Holidays,
	"ES":     es.Holidays,
	"FI":     fi.Holidays,
	"FR":     fr.Holidays,
	"GB":     gb.Holidays,
	"GE":     holidaysGE,
	"GR":     gr.Holidays,
	"GT":     holidaysGT,
	"HK":     hkHolidays.calendar("Substitute holiday"),
	"HR":     hr.Holidays,
	"HU":     hu.Holidays,
	"ID":     holidaysID,
	"IE":     ie.Holidays,
	"IL":     holidaysIL,
	"IN":     holidaysIN,
	"IS":     is.Holidays,
	"IT":     it.Holidays,
	"JP":     jp.Holidays,
	"KE":     ke.Holidays,
	"KR":     holidaysKR,
	"LI":     holidaysLI,
	"LT":     lt.Holidays,
	"LU":     holidaysLU,
	"LV":     lv.Holidays,
	"MA":     holidaysMA,
	"MD":     holidaysMD,
	"MK":     holidaysMK,
	"MT":     mt.Holidays,
	"MW":     mw.Holidays,
	"MX":     holidaysMX,
	"NC":     nc.Holidays,
	"NG":     holidaysNG,
	"NL":     nl.Holidays,
	"NO":     no.Holidays,
	"NZ":     nz.Holidays,
	"PA":     holidaysPA,
	"PE":     holidaysPE,
	"PH":     holidaysPH,
	"PL":     pl.Holidays,
	"PT":     pt.Holidays,
	"RO":     ro.Holidays,
	"RS":     rs.Holidays,
	"RU":     ru.Holidays,
	"SE":     se.Holidays,
	"SG":     holidaysSG,
	"SI":     si.Holidays,
	"SK":     sk.Holidays,
	"SV":     holidaysSV,
	"TH":     th.Holidays,
	"TN":     holidaysTN,
	"TR":     holidaysTR,
	"TW":     twHolidays.calendar("補假"),
	"UA":     ua.Holidays,
	"US":     us.Holidays,
	"UY":     holidaysUY,
	"VN":     vnHolidays.calendar("Nghỉ bù"),
	"ZA":     za.Holidays,
	"DE-BW":  de.HolidaysBW,
	"DE-BY":  de.HolidaysBY,
	"DE-BE":  de.HolidaysBE,
	"DE-BB":  de.HolidaysBB,
	"DE-HB":  de.HolidaysHB,
	"DE-HH":  de.HolidaysHH,
	"DE-HE":  de.HolidaysHE,
	"DE-MV":  de.HolidaysMV,
	"DE-NI":  de.HolidaysNI,
	"DE-NW":  de.HolidaysNW,
	"DE-RP":  de.HolidaysRP,
	"DE-SL":  de.HolidaysSL,
	"DE-SN":  de.HolidaysSN,
	"DE-ST":  de.HolidaysST,
	"DE-SH":  de.HolidaysSH,
	"DE-TH":  de.HolidaysTH,
	"CH-ZH":  ch.HolidaysZH,
	"CH-BE":  ch.HolidaysBE,
	"CH-LU":  ch.HolidaysLU,
	"CH-UR":  ch.HolidaysUR,
	"CH-SZ":  ch.HolidaysSZ,
	"CH-OW":  ch.HolidaysOW,
	"CH-NW":  ch.HolidaysNW,
	"CH-GL":  ch.HolidaysGL,
	"CH-ZG":  ch.HolidaysZG,
	"CH-FR":  ch.HolidaysFR,
	"CH-SO":  ch.HolidaysSO,
	"CH-BS":  ch.HolidaysBS,
	"CH-BL":  ch.HolidaysBL,
	"CH-SH":  ch.HolidaysSH,
	"CH-AR":  ch.HolidaysAR,
	"CH-AI":  ch.HolidaysAI,
	"CH-SG":  ch.HolidaysSG,
	"CH-GR":  ch.HolidaysGR,
	"CH-AG":  ch.HolidaysAG,
	"CH-TG":  ch.HolidaysTG,
	"CH-VD":  ch.HolidaysVD,
	"CH-TI":  ch.HolidaysTI,
	"CH-VS":  ch.HolidaysVS,
	"CH-NE":  ch.HolidaysNE,
	"CH-GE":  ch.HolidaysGE,
	"CH-JU":  ch.HolidaysJU,
	"AU-ACT": au.HolidaysACT,
	"AU-NSW": au.HolidaysNSW,
	"AU-NT":  au.HolidaysNT,
	"AU-QLD": au.HolidaysQLD,
	"AU-SA":  au.HolidaysSA,
	"AU-TAS": au.HolidaysTAS,
	"AU-VIC": au.HolidaysVIC,
	"AU-WA":  au.HolidaysWA,
}

// IsPublicHoliday reports whether date (its calendar day, as read in its location) is a
// public holiday of country, or of subdivision when it is set ("DE-BY", or
// "BY" with country DE). An unknown country or subdivision is an error
// naming what is known, so a condition never silently stays false.
func IsPublicHoliday(date time.Time, country, subdivision string) (bool, error) {
	country = strings.ToUpper(strings.TrimSpace(country))
	if country == "" {
		return false, fmt.Errorf("PublicHoliday needs a country: an ISO 3166-1 alpha-2 code such as FR")
	}
	code := country
	if sub := strings.ToUpper(strings.TrimSpace(subdivision)); sub != "" {
		if !strings.Contains(sub, "-") {
			sub = country + "-" + sub
		}
		code = sub
	}
	hols, ok := calendars[code]
	if !ok {
		return false, fmt.Errorf("no public holiday calendar for %s; known: %s", code, strings.Join(HolidayCalendars(), ", "))
	}
	y, m, d := date.Date()
	for _, h := range hols {
		for _, year := range [2]int{y, y + 1} { // next year's holiday may be observed in this year's last days
			act, obs := h.Calc(year)
			if same(act, y, m, d) || same(obs, y, m, d) {
				return true, nil
			}
		}
	}
	return false, nil
}

func same(t time.Time, y int, m time.Month, d int) bool {
	if t.IsZero() {
		return false
	}
	ty, tm, td := t.Date()
	return ty == y && tm == m && td == d
}

// HolidayCalendars lists the codes there is a holiday calendar for,
// sorted.
func HolidayCalendars() []string {
	out := make([]string, 0, len(calendars))
	for k := range calendars {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// IsDayWeekInMonth reports whether d is the FIRST, SECOND, THIRD, FOURTH
// or LAST given weekday (MONDAY…SUNDAY, any case) of its month.
func IsDayWeekInMonth(d time.Time, day, position string) bool {
	if !strings.EqualFold(d.Weekday().String(), day) {
		return false
	}
	nth := (d.Day()-1)/7 + 1
	switch strings.ToUpper(position) {
	case "FIRST":
		return nth == 1
	case "SECOND":
		return nth == 2
	case "THIRD":
		return nth == 3
	case "FOURTH":
		return nth == 4
	case "LAST":
		return d.AddDate(0, 0, 7).Month() != d.Month()
	}
	return false
}
