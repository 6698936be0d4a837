package expr

import (
	"fmt"
	"strings"
	"time"

	"github.com/ospreyhq/osprey/internal/calendar"
)

// Kestra's calendar functions (isWeekend, isPublicHoliday,
// isDayWeekInMonth, dayOfWeek, dayOfMonth, monthOfYear, hourOfDay):
// decisions on a date's weekday, month or holidays. A date is what the
// date filter takes (a date, an epoch, an ISO 8601 text); its fields are
// read in the date's own offset.

// fnIsWeekend is isWeekend(date).
func fnIsWeekend(st *state, a Args) (any, error) {
	d, err := calendarDate(st, a, "isWeekend")
	if err != nil {
		return nil, err
	}
	return d.Weekday() == time.Saturday || d.Weekday() == time.Sunday, nil
}

func fnIsPublicHoliday(st *state, a Args) (any, error) {
	d, err := calendarDate(st, a, "isPublicHoliday")
	if err != nil {
		return nil, err
	}
	country, _ := a.Get(1, "countryCode")
	sub, _ := a.Get(2, "subDivision")
	return st.eng.holidays.IsPublicHoliday(d, toString(country), toString(sub))
}

func fnIsDayWeekInMonth(st *state, a Args) (any, error) {
	d, err := calendarDate(st, a, "isDayWeekInMonth")
	if err != nil {
		return nil, err
	}
	day, _ := a.Get(1, "dayOfWeek")
	pos, _ := a.Get(2, "dayInMonth")
	return calendar.IsDayWeekInMonth(d, toString(day), toString(pos)), nil
}

func fnDayOfWeek(st *state, a Args) (any, error) {
	d, err := calendarDate(st, a, "dayOfWeek")
	if err != nil {
		return nil, err
	}
	return strings.ToUpper(d.Weekday().String()), nil
}

func fnDayOfMonth(st *state, a Args) (any, error) {
	d, err := calendarDate(st, a, "dayOfMonth")
	if err != nil {
		return nil, err
	}
	return int64(d.Day()), nil
}

func fnMonthOfYear(st *state, a Args) (any, error) {
	d, err := calendarDate(st, a, "monthOfYear")
	if err != nil {
		return nil, err
	}
	return int64(d.Month()), nil
}

func fnHourOfDay(st *state, a Args) (any, error) {
	d, err := calendarDate(st, a, "hourOfDay")
	if err != nil {
		return nil, err
	}
	return int64(d.Hour()), nil
}

func calendarDate(st *state, a Args, fn string) (time.Time, error) {
	v, ok := a.Get(0, "date")
	if !ok || v == nil {
		return time.Time{}, fmt.Errorf("%s() needs a date, e.g. %s(trigger.date)", fn, fn)
	}
	d, err := toTime(v, st.eng.loc, "")
	if err != nil {
		return time.Time{}, fmt.Errorf("%s(): %w", fn, err)
	}
	return d, nil
}
