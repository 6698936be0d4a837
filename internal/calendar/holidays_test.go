package calendar_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/internal/calendar"
)

func TestIsPublicHoliday(t *testing.T) {
	t.Parallel()
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return d
	}
	cases := []struct {
		date, country, sub string
		want               bool
		err                string
	}{
		{"2026-07-14", "FR", "", true, ""},  // Fête nationale
		{"2026-07-15", "FR", "", false, ""}, // an ordinary Wednesday
		{"2026-12-25", "fr", "", true, ""},
		{"2026-01-06", "DE", "", false, ""},  // Epiphany is not national in Germany…
		{"2026-01-06", "DE", "BY", true, ""}, // …but it is in Bavaria
		{"2026-01-06", "DE", "DE-BY", true, ""},
		{"2026-07-03", "US", "", true, ""}, // Independence Day on a Saturday, observed on Friday
		{"2026-11-26", "US", "", true, ""}, // Thanksgiving
		{"2026-01-26", "AU", "NSW", true, ""},
		{"2026-09-16", "MX", "", true, ""}, // Independence Day
		{"2018-12-01", "MX", "", true, ""}, // the handover before 2024
		{"2030-10-01", "MX", "", true, ""}, // and after
		{"2027-10-01", "MX", "", false, ""},
		{"2026-05-09", "LU", "", true, ""}, // Europe Day
		{"2018-05-09", "LU", "", false, ""},
		{"2024-05-02", "CN", "", false, ""}, // the second Labour Day is from 2025
		{"2022-12-26", "KR", "", false, ""}, // no Christmas substitute before 2023…
		{"2027-12-27", "KR", "", true, ""},  // …one from then
		{"2020-10-05", "KR", "", false, ""}, // National Foundation Day substitutes from 2021
		{"2027-07-19", "KR", "", true, ""},  // Constitution Day on a Saturday
		{"2014-09-10", "KR", "", true, ""},  // the first substitute: Chuseok's eve on Sunday 9/7
		{"2023-05-29", "KR", "", true, ""},  // Buddha's Birthday on Saturday 5/27
		{"2017-10-06", "KR", "", true, ""},  // Chuseok's eve on National Foundation Day
		{"2021-08-16", "KR", "", true, ""},  // the national days' first substitutes
		{"2021-10-04", "KR", "", true, ""},
		{"2021-10-11", "KR", "", true, ""},
		{"2022-05-09", "KR", "", false, ""}, // Buddha's Birthday on Sunday 5/8, before its substitutes
		{"1997-02-07", "KR", "", true, ""},  // Seollal's eve: China's New Year, not Korea's
		{"1997-02-10", "KR", "", false, ""},
		{"2016-07-15", "TR", "", false, ""}, // Democracy Day is from 2017
		{"2007-02-17", "HK", "", true, ""},  // Lunar New Year's Day on a Sunday: the day before, until 2011
		{"2007-02-21", "HK", "", false, ""},
		{"2010-02-13", "HK", "", true, ""},
		{"2014-02-03", "HK", "", true, ""}, // the third day on a Sunday: the fourth day
		{"2023-01-25", "HK", "", true, ""}, // Lunar New Year's Day on a Sunday: the fourth day, from 2012
		{"2010-12-27", "HK", "", true, ""}, // the first weekday after Christmas on a Saturday
		{"2020-01-28", "VN", "", true, ""}, // Tết's first two days on a weekend: in lieu after the third
		{"2020-01-29", "VN", "", true, ""},
		{"2023-05-02", "VN", "", true, ""}, // the Hung Kings' day on a Saturday…
		{"2023-05-03", "VN", "", true, ""}, // …and Reunification Day on a Sunday
		{"2026-03-20", "ZZ", "", false, "known: AD, AR, AT"},
		{"2026-02-02", "MX", "", true, ""}, // Constitution Day, the first Monday of February
		{"2026-06-10", "PT", "", true, ""}, // Dia de Portugal
		{"2026-12-06", "FI", "", true, ""}, // Independence Day
		{"2026-03-15", "HU", "", true, ""}, // 1848 Revolution Memorial Day
		{"2026-03-16", "HU", "", false, ""},
		{"2026-05-06", "jp", "", true, ""}, // substitute for Constitution Memorial Day on a Sunday
		{"2026-07-14", "", "", false, "needs a country"},
		{"2026-07-14", "XX", "", false, "no public holiday calendar for XX"},
		{"2026-07-14", "FR", "ZZ", false, "no public holiday calendar for FR-ZZ"},
	}
	for _, tc := range cases {
		got, err := calendar.IsPublicHoliday(day(tc.date), tc.country, tc.sub)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.date)
			continue
		}
		require.NoError(t, err, tc.date)
		require.Equal(t, tc.want, got, "%s %s %s", tc.date, tc.country, tc.sub)
	}
	require.Contains(t, calendar.HolidayCalendars(), "CH-ZH")
}

func TestIsDayWeekInMonth(t *testing.T) {
	t.Parallel()
	cases := []struct {
		date, day, position string
		want                bool
	}{
		{"2026-03-07", "SATURDAY", "FIRST", true},
		{"2026-03-07", "saturday", "SECOND", false},
		{"2026-03-28", "SATURDAY", "LAST", true},
		{"2026-03-21", "SATURDAY", "LAST", false},
		{"2026-03-21", "SATURDAY", "THIRD", true},
		{"2026-03-26", "THURSDAY", "FOURTH", true},
		{"2026-03-07", "MONDAY", "FIRST", false},
		{"2026-03-07", "SATURDAY", "FIFTH", false},
	}
	for _, tc := range cases {
		d, err := time.Parse(time.DateOnly, tc.date)
		require.NoError(t, err)
		require.Equal(t, tc.want, calendar.IsDayWeekInMonth(d, tc.day, tc.position), "%s %s %s", tc.date, tc.day, tc.position)
	}
}
