package calendar

import (
	"sync"
	"testing"
	"time"

	"github.com/6tail/lunar-go/calendar"
	"github.com/stretchr/testify/require"
)

// TestLunisolarAgreesWithChina checks the rules against lunar-go's Chinese
// calendar: reckoned at UTC+8 they must give its dates of the New Year, the
// Dragon Boat Festival and Mid-Autumn for every year from 1950 to 2100.
func TestLunisolarAgreesWithChina(t *testing.T) {
	t.Parallel()
	cn := lunisolar{offset: 8, years: &sync.Map{}}
	for year := 1950; year <= 2100; year++ {
		for _, md := range [][2]int{{1, 1}, {5, 5}, {8, 15}} {
			want := dateOf(calendar.NewLunarFromYmd(year, md[0], md[1]).GetSolar())
			require.Equal(t, want, cn.date(year, md[0], md[1]), "%d, month %d day %d", year, md[0], md[1])
		}
	}
}

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	require.NoError(t, err)
	return d
}

// TestLunisolarKorea checks the calendar at UTC+9 against the Korea
// Astronomy and Space Science Institute's dates, in years Korea's calendar
// and China's differ.
func TestLunisolarKorea(t *testing.T) {
	t.Parallel()
	cases := []struct {
		year, month, day int
		want             string
		source           string
	}{
		// Maeil Shinmun, 14 January 1997, "한.중 올해 설날이 다르다": the new moon at 0:06
		// in Seoul, 23:06 on the day before in Beijing; China's New Year is 2/7.
		{1997, 1, 1, "1997-02-08", "Seollal 1997"},
		// Bulgyo Shinmun, 30 May 2012, citing KASI: Korea's leap month is the 3rd, China's
		// the 4th, so Buddha's Birthday is a month apart (China 4/28).
		{2012, 4, 8, "2012-05-28", "Buddha's Birthday 2012"},
		// KASI's 2023 holidays: Buddha's Birthday on Saturday 5/27 (China 5/26).
		{2023, 4, 8, "2023-05-27", "Buddha's Birthday 2023"},
		// KASI, calendar data for 2027 (astro.kasi.re.kr/life/post/calendarData): the
		// first days of months 1 to 10 (China's New Year is 2/6).
		{2027, 1, 1, "2027-02-07", "2027"},
		{2027, 2, 1, "2027-03-08", "2027"},
		{2027, 3, 1, "2027-04-07", "2027"},
		{2027, 4, 1, "2027-05-06", "2027"},
		{2027, 5, 1, "2027-06-05", "2027"},
		{2027, 6, 1, "2027-07-04", "2027"},
		{2027, 7, 1, "2027-08-02", "2027"},
		{2027, 8, 1, "2027-09-01", "2027"},
		{2027, 9, 1, "2027-09-30", "2027"},
		{2027, 10, 1, "2027-10-29", "2027"},
		// KASI's lists for 2025 and 2026 (TestHolidayYears has them whole).
		{2025, 1, 1, "2025-01-29", "Seollal 2025"},
		{2025, 4, 8, "2025-05-05", "Buddha's Birthday 2025"},
		{2025, 8, 15, "2025-10-06", "Chuseok 2025"},
		{2026, 1, 1, "2026-02-17", "Seollal 2026"},
		{2026, 4, 8, "2026-05-24", "Buddha's Birthday 2026"},
		{2026, 8, 15, "2026-09-25", "Chuseok 2026"},
	}
	for _, tc := range cases {
		require.Equal(t, day(t, tc.want), lunisolarKR.date(tc.year, tc.month, tc.day), tc.source)
	}
}

// TestLunisolarVietnam checks the calendar at UTC+7 against Vietnam's
// dates of Tết and of the Hung Kings' Commemoration (3/10).
func TestLunisolarVietnam(t *testing.T) {
	t.Parallel()
	cases := []struct {
		year, month, day int
		want             string
		source           string
	}{
		// Viet-jo, 6 July 2006, citing the government's calendar office, and the Vietnam
		// Chamber of Commerce's news, 29 September 2006: Tết 2007 is 2/17, China's New Year
		// 2/18; the same happens again in 2030 and 2053 (2/2 and 2/18, China's a day later).
		{2007, 1, 1, "2007-02-17", "Tết 2007"},
		{2030, 1, 1, "2030-02-02", "Tết 2030"},
		{2053, 1, 1, "2053-02-18", "Tết 2053"},
		// The Prime Minister's holiday schedules (TestHolidayYears).
		{2025, 1, 1, "2025-01-29", "Tết 2025"},
		{2026, 1, 1, "2026-02-17", "Tết 2026"},
		{2025, 3, 10, "2025-04-07", "Hung Kings 2025"},
		{2026, 3, 10, "2026-04-26", "Hung Kings 2026"},
		// Hung Kings' Commemoration 2023 on Saturday 4/29 (CafeF, January 2023).
		{2023, 3, 10, "2023-04-29", "Hung Kings 2023"},
	}
	for _, tc := range cases {
		require.Equal(t, day(t, tc.want), lunisolarVN.date(tc.year, tc.month, tc.day), tc.source)
	}
}

// TestSubstitutesFit checks no year gives more substitutes than the slots
// IsPublicHoliday reads.
func TestSubstitutesFit(t *testing.T) {
	t.Parallel()
	for _, s := range []*substitution{krHolidays, hkHolidays, vnHolidays, twHolidays} {
		for year := 1950; year <= 2100; year++ {
			require.Less(t, len(s.substitutes(year)), maxSubstitutes, "%d", year)
		}
	}
}
