package calendar

import (
	"slices"
	"sync"
	"time"

	"github.com/6tail/lunar-go/calendar"
	"github.com/rickar/cal/v2"
)

// East Asia's laws give a holiday lost to a weekend, or to another holiday
// on the same day, a substitute on the first free day after it (before it,
// for Taiwan's Saturdays). Which days
// lose a holiday, and which days may take its place, differ by country, and
// the substitute depends on every other holiday of the year (Korea's
// Children's Day and Buddha's Birthday on one day in 2025 gave one
// substitute, the day after), which rickar/cal's per-holiday Observed rule
// cannot express. substitution computes a year's substitutes over the whole
// list; its days are then offered to IsPublicHoliday as numbered slots.

// replaced is a holiday and the rule that gives it a substitute.
type replaced struct {
	h *cal.Holiday
	// lost reports whether the holiday is lost when it falls on that
	// weekday (nil: it never has a substitute).
	lost func(time.Weekday) bool
	// from is the first year the holiday has a substitute.
	from int
	// span is how many days after the holiday the substitute is sought
	// from: a holiday of several days (Korea's Seollal and Chuseok) gets its
	// substitute after the last of them.
	span int
	// back reports whether, lost on that weekday, the holiday's substitute
	// is the free day before it rather than after (Taiwan's Saturdays).
	back func(time.Weekday) bool
}

// substitution is a country's holidays and how their substitutes are
// found.
type substitution struct {
	holidays []replaced
	// free reports whether a substitute may fall on that weekday.
	free func(time.Weekday) bool
	// overlap is whether a holiday on another one's day is lost too.
	overlap bool
	years   sync.Map // int → []time.Time
}

// maxSubstitutes is how many substitute days one year can give; the tests
// check no calendar reaches it.
const maxSubstitutes = 12

// substitutes are the days given that year in place of lost holidays, in
// order. A holiday is lost on a weekday its rule names, or, where the law
// says so, when another holiday (one without a substitute that year first)
// already has its day; its substitute is the first day after it (after
// span days), or before it, that is free and no holiday.
func (s *substitution) substitutes(year int) []time.Time {
	if v, ok := s.years.Load(year); ok {
		return v.([]time.Time)
	}
	type day struct {
		t time.Time
		r replaced
	}
	var days []day
	taken := map[time.Time]bool{}
	for _, r := range s.holidays {
		if t, _ := r.h.Calc(year); !t.IsZero() {
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) // a map key
			days = append(days, day{t, r})
			taken[t] = true
		}
	}
	slices.SortStableFunc(days, func(a, b day) int {
		if c := a.t.Compare(b.t); c != 0 {
			return c
		}
		return boolInt(a.r.active(year)) - boolInt(b.r.active(year))
	})
	var subs []time.Time
	seen := map[time.Time]bool{}
	for _, d := range days {
		lost := d.r.active(year) && (d.r.lost(d.t.Weekday()) || s.overlap && seen[d.t])
		seen[d.t] = true
		if !lost {
			continue
		}
		t, step := d.t.AddDate(0, 0, d.r.span+1), 1
		if d.r.back != nil && d.r.back(d.t.Weekday()) {
			t, step = d.t.AddDate(0, 0, -1), -1
		}
		for !s.free(t.Weekday()) || taken[t] {
			t = t.AddDate(0, 0, step)
		}
		taken[t] = true
		subs = append(subs, t)
	}
	v, _ := s.years.LoadOrStore(year, subs)
	return v.([]time.Time)
}

// active reports whether the holiday has a substitute that year.
func (r replaced) active(year int) bool {
	return r.lost != nil && year >= r.from
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// calendar is the holidays and their substitutes, as IsPublicHoliday reads
// them.
func (s *substitution) calendar(name string) []*cal.Holiday {
	out := make([]*cal.Holiday, 0, len(s.holidays)+maxSubstitutes)
	for _, r := range s.holidays {
		out = append(out, r.h)
	}
	for i := range maxSubstitutes {
		out = append(out, &cal.Holiday{
			Name: name,
			Type: cal.ObservancePublic,
			Func: func(_ *cal.Holiday, year int) time.Time {
				if subs := s.substitutes(year); i < len(subs) {
					return subs[i]
				}
				return time.Time{}
			},
		})
	}
	return out
}

func on(days ...time.Weekday) func(time.Weekday) bool {
	return func(d time.Weekday) bool { return slices.Contains(days, d) }
}

var (
	weekend   = on(time.Saturday, time.Sunday)
	onSunday  = on(time.Sunday)
	weekday   = func(d time.Weekday) bool { return !weekend(d) }
	notSunday = func(d time.Weekday) bool { return d != time.Sunday }
)

// lunarOf is a day of calendar c, moved by shift days (-1 for the eve of
// the new year).
func lunarOf(c lunisolar, name string, month, day, shift int) *cal.Holiday {
	return &cal.Holiday{
		Name: name,
		Type: cal.ObservancePublic,
		Func: memo(func(year int) time.Time {
			return c.date(year, month, day).AddDate(0, 0, shift)
		}),
	}
}

// krLunar is a day of Korea's lunar calendar (UTC+9).
func krLunar(name string, month, day, shift int) *cal.Holiday {
	return lunarOf(lunisolarKR, name, month, day, shift)
}

// krHolidays are South Korea's holidays (Regulations on Holidays of
// Government Offices, art. 2; Act on Public Holidays) and their
// substitutes (art. 3): Seollal and Chuseok, three days each, get one when
// one of their days falls on a Sunday or on another holiday (from 2014);
// Children's Day when it falls on a Saturday, a Sunday or another holiday
// (from 2014), the national days likewise from 2021, Buddha's Birthday and
// Christmas from 2023. New Year's Day and Memorial Day have none.
// Constitution Day is a public holiday again from 2026 and, being a
// national day, takes their rule. A substitute is the first weekday after
// that is no holiday. Election days are declared for each election.
var krHolidays = &substitution{
	free:    weekday,
	overlap: true,
	holidays: []replaced{
		{h: fixed("New Year's Day", time.January, 1, 0, nil)},
		{h: krLunar("Seollal", 1, 1, -1), lost: onSunday, from: 2014, span: 2},
		{h: krLunar("Seollal", 1, 1, 0), lost: onSunday, from: 2014, span: 1},
		{h: krLunar("Seollal", 1, 2, 0), lost: onSunday, from: 2014},
		{h: fixed("Independence Movement Day", time.March, 1, 0, nil), lost: weekend, from: 2021},
		{h: fixed("Children's Day", time.May, 5, 0, nil), lost: weekend, from: 2014},
		{h: krLunar("Buddha's Birthday", 4, 8, 0), lost: weekend, from: 2023},
		{h: fixed("Memorial Day", time.June, 6, 0, nil)},
		{h: fixed("Constitution Day", time.July, 17, 2026, nil), lost: weekend, from: 2026},
		{h: fixed("Liberation Day", time.August, 15, 0, nil), lost: weekend, from: 2021},
		{h: krLunar("Chuseok", 8, 15, -1), lost: onSunday, from: 2014, span: 2},
		{h: krLunar("Chuseok", 8, 15, 0), lost: onSunday, from: 2014, span: 1},
		{h: krLunar("Chuseok", 8, 16, 0), lost: onSunday, from: 2014},
		{h: fixed("National Foundation Day", time.October, 3, 0, nil), lost: weekend, from: 2021},
		{h: fixed("Hangul Day", time.October, 9, 0, nil), lost: weekend, from: 2021},
		{h: fixed("Christmas Day", time.December, 25, 0, nil), lost: weekend, from: 2023},
	},
}

// hkHolidays are Hong Kong's general holidays (General Holidays Ordinance,
// Cap. 149, Schedule) besides Sundays, their lunar dates in China's
// calendar, which the Hong Kong Observatory also reckons at UTC+8. One on
// a Sunday, or on another general holiday, moves to the next day that is
// neither; when one of the first three days of the Lunar New Year is a
// Sunday, that is the fourth day. Before the 2011 amendment, a Lunar New
// Year's Day on a Sunday gave the day before it instead, and a day after
// Mid-Autumn on a Sunday gave the festival itself.
var hkHolidays = &substitution{
	free:    notSunday,
	overlap: true,
	holidays: []replaced{
		{h: fixed("The first day of January", time.January, 1, 0, nil), lost: onSunday},
		{h: hkBefore2012("The day preceding Lunar New Year's Day", 1, 1)},
		{h: lunarDay("Lunar New Year's Day", 1, 1, 0, 0, 0), lost: onSunday, from: 2012},
		{h: lunarDay("The second day of Lunar New Year", 1, 2, 0, 0, 0), lost: onSunday},
		{h: lunarDay("The third day of Lunar New Year", 1, 3, 0, 0, 0), lost: onSunday},
		{h: &cal.Holiday{Name: "Ching Ming Festival", Type: cal.ObservancePublic, Func: qingming.Func}, lost: onSunday},
		{h: easter("Good Friday", -2)},
		{h: easter("The day following Good Friday", -1)},
		{h: easter("Easter Monday", 1)},
		{h: fixed("Labour Day", time.May, 1, 0, nil), lost: onSunday},
		{h: lunarDay("The Birthday of the Buddha", 4, 8, 0, 0, 0), lost: onSunday},
		{h: lunarDay("Tuen Ng Festival", 5, 5, 0, 0, 0), lost: onSunday},
		{h: fixed("Hong Kong Special Administrative Region Establishment Day", time.July, 1, 0, nil), lost: onSunday},
		{h: hkBefore2012("Chinese Mid-Autumn Festival", 8, 16)},
		{h: lunarDay("The day following the Chinese Mid-Autumn Festival", 8, 16, 0, 0, 0), lost: onSunday, from: 2012},
		{h: fixed("National Day", time.October, 1, 0, nil), lost: onSunday},
		{h: lunarDay("Chung Yeung Festival", 9, 9, 0, 0, 0), lost: onSunday},
		{h: fixed("Christmas Day", time.December, 25, 0, nil), lost: onSunday},
		{h: fixed("The first weekday after Christmas Day", time.December, 26, 0, nil), lost: onSunday},
	},
}

// hkBefore2012 is, until 2011, the day before month/day of China's
// calendar in the years that day is a Sunday.
func hkBefore2012(name string, month, day int) *cal.Holiday {
	return &cal.Holiday{
		Name:    name,
		Type:    cal.ObservancePublic,
		EndYear: 2011,
		Func: memo(func(year int) time.Time {
			d := dateOf(calendar.NewLunarFromYmd(year, month, day).GetSolar())
			if d.Weekday() != time.Sunday {
				return time.Time{}
			}
			return d.AddDate(0, 0, -1)
		}),
	}
}

// vnLunar is a day of Vietnam's lunar calendar (UTC+7).
func vnLunar(name string, month, day, shift int) *cal.Holiday {
	return lunarOf(lunisolarVN, name, month, day, shift)
}

// vnHolidays are Vietnam's public holidays that the Labour Code (2019,
// art. 112) dates, with the day off in lieu on the next working day when
// one falls on a weekend (art. 111): New Year's Day, the Hung Kings'
// Commemoration (10th day of the 3rd lunar month, from 2007), Reunification
// Day, Labour Day and National Day, and of Tết's five days the four every
// year's schedule holds, the eve and the first three days of the year. The
// fifth day of Tết, National Day's second day, and the working days swapped
// for bridge days are set by the Prime Minister each year.
var vnHolidays = &substitution{
	free: weekday,
	holidays: []replaced{
		{h: fixed("Tết Dương lịch", time.January, 1, 0, nil), lost: weekend},
		{h: vnLunar("Tết Nguyên Đán", 1, 1, -1), lost: weekend, span: 3},
		{h: vnLunar("Tết Nguyên Đán", 1, 1, 0), lost: weekend, span: 2},
		{h: vnLunar("Tết Nguyên Đán", 1, 2, 0), lost: weekend, span: 1},
		{h: vnLunar("Tết Nguyên Đán", 1, 3, 0), lost: weekend},
		{h: from(vnLunar("Giỗ Tổ Hùng Vương", 3, 10, 0), 2007), lost: weekend},
		{h: fixed("Ngày Giải phóng miền Nam, thống nhất đất nước", time.April, 30, 0, nil), lost: weekend},
		{h: fixed("Ngày Quốc tế Lao động", time.May, 1, 0, nil), lost: weekend},
		{h: fixed("Quốc khánh", time.September, 2, 0, nil), lost: weekend},
	},
}

// twHolidays are Taiwan's public holidays (Act on the Implementation of
// Memorial Days and Holidays, as amended in 2025; before it, the Executive
// Yuan's regulations of 2014) and their make-up days, as the Directorate-
// General of Personnel Administration applies them (Points on Make-up
// Holidays, point 3): from 2015, one on a Saturday is made up the working
// day before, one on a Sunday the working day after; the Lunar New Year's
// days are made up after the last of them (the 2025 rules let the
// Directorate choose the day before instead, which it has not done).
// Children's Day on Tomb Sweeping Day (the Qingming solar term) moves to
// the day before, or after when that day is a Thursday. The 2025 Act adds
// Labour Day and the day before Lunar New Year's Eve from 2026, Teachers'
// Day, Retrocession Day and Constitution Day from 2025. The bridge days the
// Directorate swapped for working Saturdays until 2025 were set yearly.
var twHolidays = &substitution{
	free: weekday,
	holidays: []replaced{
		{h: fixed("中華民國開國紀念日", time.January, 1, 0, nil), lost: weekend, back: onSaturday, from: 2015},
		{h: lunarDay("除夕前一日", 1, 1, -2, 2026, 0), lost: weekend, from: 2015, span: 4},
		{h: lunarDay("農曆除夕", 1, 1, -1, 0, 0), lost: weekend, from: 2015, span: 3},
		{h: lunarDay("春節", 1, 1, 0, 0, 0), lost: weekend, from: 2015, span: 2},
		{h: lunarDay("春節", 1, 2, 0, 0, 0), lost: weekend, from: 2015, span: 1},
		{h: lunarDay("春節", 1, 3, 0, 0, 0), lost: weekend, from: 2015},
		{h: fixed("和平紀念日", time.February, 28, 0, nil), lost: weekend, back: onSaturday, from: 2015},
		{h: twChildrensDay, lost: weekend, back: onSaturday, from: 2015},
		{h: &cal.Holiday{Name: "民族掃墓節", Type: cal.ObservancePublic, Func: qingming.Func}, lost: weekend, back: onSaturday, from: 2015},
		{h: fixed("勞動節", time.May, 1, 2026, nil), lost: weekend, back: onSaturday, from: 2026},
		{h: lunarDay("端午節", 5, 5, 0, 0, 0), lost: weekend, back: onSaturday, from: 2015},
		{h: lunarDay("中秋節", 8, 15, 0, 0, 0), lost: weekend, back: onSaturday, from: 2015},
		{h: fixed("孔子誕辰紀念日", time.September, 28, 2025, nil), lost: weekend, back: onSaturday, from: 2025},
		{h: fixed("國慶日", time.October, 10, 0, nil), lost: weekend, back: onSaturday, from: 2015},
		{h: fixed("臺灣光復暨金門古寧頭大捷紀念日", time.October, 25, 2025, nil), lost: weekend, back: onSaturday, from: 2025},
		{h: fixed("行憲紀念日", time.December, 25, 2025, nil), lost: weekend, back: onSaturday, from: 2025},
	},
}

var onSaturday = on(time.Saturday)

// twChildrensDay is 4 April, a holiday again from 2011, on the day before
// when Tomb Sweeping Day is also 4 April, or the day after when that is a
// Thursday.
var twChildrensDay = &cal.Holiday{
	Name:      "兒童節",
	Type:      cal.ObservancePublic,
	StartYear: 2011,
	Func: func(_ *cal.Holiday, year int) time.Time {
		d := time.Date(year, time.April, 4, 0, 0, 0, 0, time.UTC)
		if q := qingming.Func(qingming, year); q.Month() != time.April || q.Day() != 4 {
			return d
		}
		if d.Weekday() == time.Thursday {
			return d.AddDate(0, 0, 1)
		}
		return d.AddDate(0, 0, -1)
	},
}

// holidaysPH are the Philippines' regular holidays (Administrative Code,
// Book I, sec. 26, as amended by Republic Act 9492): New Year's Day, Maundy
// Thursday, Good Friday, Araw ng Kagitingan, Labor Day, Independence Day,
// National Heroes Day (the last Monday of August), Bonifacio Day,
// Christmas and Rizal Day, with no substitutes. Eid'l Fitr and Eid'l Adha
// follow the Hijri calendar and are proclaimed each year, as are the
// special non-working days (the President's yearly proclamation lists and
// changes them).
var holidaysPH = []*cal.Holiday{
	fixed("New Year's Day", time.January, 1, 0, nil),
	easter("Maundy Thursday", -3),
	easter("Good Friday", -2),
	fixed("Araw ng Kagitingan", time.April, 9, 0, nil),
	fixed("Labor Day", time.May, 1, 0, nil),
	fixed("Independence Day", time.June, 12, 0, nil),
	weekdayN("National Heroes Day", time.August, time.Monday, -1),
	fixed("Bonifacio Day", time.November, 30, 0, nil),
	fixed("Christmas Day", time.December, 25, 0, nil),
	fixed("Rizal Day", time.December, 30, 0, nil),
}

// holidaysID are Indonesia's national holidays a rule dates (Presidential
// Decree 8 of 2024 on holidays, as the Ministers' yearly joint decree lists
// them): New Year's Day, Good Friday, Easter Sunday, Labour Day, the
// Ascension, Pancasila Day (from 2017), Independence Day and Christmas. No
// holiday has a substitute. Isra Mi'raj, Eid al-Fitr, Eid al-Adha, the
// Islamic New Year and the Prophet's Birthday follow the Hijri calendar,
// Nyepi the Balinese Saka calendar and Vesak the Buddhist one, and the
// joint decree dates them and Chinese New Year each year, with the
// collective leave days (cuti bersama).
var holidaysID = []*cal.Holiday{
	fixed("Tahun Baru Masehi", time.January, 1, 0, nil),
	easter("Wafat Yesus Kristus", -2),
	easter("Kebangkitan Yesus Kristus", 0),
	fixed("Hari Buruh Internasional", time.May, 1, 0, nil),
	easter("Kenaikan Yesus Kristus", 39),
	fixed("Hari Lahir Pancasila", time.June, 1, 2017, nil),
	fixed("Proklamasi Kemerdekaan", time.August, 17, 0, nil),
	fixed("Kelahiran Yesus Kristus", time.December, 25, 0, nil),
}
