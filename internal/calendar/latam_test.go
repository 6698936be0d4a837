package calendar_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/internal/calendar"
)

// TestLatinAmericaYears checks, day by day over whole years, the Latin
// American calendars of latam.go against each country's yearly list of
// holidays, less the days declared for one year, which each case names.
// Where the government's own page was not at hand, its list was read as
// the national press reproduced it (e.g. CNN Chile, La Nación, Prensa
// Libre, El Comercio).
func TestLatinAmericaYears(t *testing.T) {
	t.Parallel()
	cases := []struct {
		country string
		year    int
		want    []string // MM-DD
	}{
		// Chile, the laws named in latam.go (www.bcn.cl/leychile; Law 19.668's moves as the Dirección
		// del Trabajo states them, dt.gob.cl), against the Government's yearly list as published for
		// 2023, 2025 and 2026: in 2023 Saints Peter and Paul moved to 6/26, the Meeting of Two Worlds
		// to 10/9, the Evangelical Churches' day (a Tuesday) to Friday 10/27, and 1/2 was a holiday
		// after a Sunday New Year; the solstice fell on 6/21/2023, 6/20/2025 and 6/21/2026. Not
		// here: the election days 5/7 and 12/17/2023, 6/29 (also a holiday), 11/16 and 12/14/2025.
		{"CL", 2023, []string{"01-01", "01-02", "04-07", "04-08", "05-01", "05-21", "06-21", "06-26", "07-16", "08-15", "09-18", "09-19", "10-09", "10-27", "11-01", "12-08", "12-25"}},
		{"CL", 2025, []string{"01-01", "04-18", "04-19", "05-01", "05-21", "06-20", "06-29", "07-16", "08-15", "09-18", "09-19", "10-12", "10-31", "11-01", "12-08", "12-25"}},
		{"CL", 2026, []string{"01-01", "04-03", "04-04", "05-01", "05-21", "06-21", "06-29", "07-16", "08-15", "09-18", "09-19", "10-12", "10-31", "11-01", "12-08", "12-25"}},
		// Chile 2024: 18 and 19 September on a Wednesday and Thursday make Friday 9/20 a holiday
		// (Law 20.215). Not here: the election days 6/9, 10/27 and 11/24.
		{"CL", 2024, []string{"01-01", "03-29", "03-30", "05-01", "05-21", "06-20", "06-29", "07-16", "08-15", "09-18", "09-19", "09-20", "10-12", "10-31", "11-01", "12-08", "12-25"}},
		// Guatemala, Labour Code art. 127 and Decree 19-2018, against the Ministry of Labour's lists of
		// days off for 2023 and 2026 and the one for 2025: Army Day moved to Monday 7/3/2023 and
		// 6/29/2026. Not here: the afternoons of Holy Wednesday and of 24 and 31 December, Mother's Day
		// (for mothers only), 15 August (Guatemala City only).
		{"GT", 2023, []string{"01-01", "04-06", "04-07", "04-08", "05-01", "07-03", "09-15", "10-20", "11-01", "12-25"}},
		{"GT", 2025, []string{"01-01", "04-17", "04-18", "04-19", "05-01", "06-30", "09-15", "10-20", "11-01", "12-25"}},
		{"GT", 2026, []string{"01-01", "04-02", "04-03", "04-04", "05-01", "06-29", "09-15", "10-20", "11-01", "12-25"}},
		// Panama, Labour Code arts. 46 and 47 (the Mitradel's reading in its notices), against the
		// Government's official calendars of national holidays for 2025 and 2026: 20 December 2026 is
		// a Sunday, so Monday 12/21 is a rest day. Not here: the public offices' closures decreed
		// around Carnival (2/16 and 2/18/2026) and for the districts' feasts.
		{"PA", 2025, []string{"01-01", "01-09", "03-04", "04-18", "05-01", "11-03", "11-05", "11-10", "11-28", "12-08", "12-20", "12-25"}},
		{"PA", 2026, []string{"01-01", "01-09", "02-17", "04-03", "05-01", "11-03", "11-05", "11-10", "11-28", "12-08", "12-20", "12-21", "12-25"}},
		// Peru, Legislative Decree 713, art. 6, as amended by Laws 31381, 31530, 31788 and 31822
		// (El Peruano), against the 2025 and 2026 lists of feriados. Not here: the non-working days
		// decreed for the public sector.
		{"PE", 2025, []string{"01-01", "04-17", "04-18", "05-01", "06-07", "06-29", "07-23", "07-28", "07-29", "08-06", "08-30", "10-08", "11-01", "12-08", "12-09", "12-25"}},
		{"PE", 2026, []string{"01-01", "04-02", "04-03", "05-01", "06-07", "06-29", "07-23", "07-28", "07-29", "08-06", "08-30", "10-08", "11-01", "12-08", "12-09", "12-25"}},
		// Peru 2023: 6/7 was not yet a holiday; the Air Force's day was, from its first year.
		{"PE", 2023, []string{"01-01", "04-06", "04-07", "05-01", "06-29", "07-23", "07-28", "07-29", "08-06", "08-30", "10-08", "11-01", "12-08", "12-09", "12-25"}},
		// Costa Rica, Labour Code art. 148, Law 9875 (its table of moves for 2020-2024) and Law 10.050,
		// against the Ministry of Labour's lists of holidays for 2023, 2025 and 2026: in 2023 11 April,
		// 25 July and 15 August moved to Monday 4/10, 7/24 and 8/14, and 31 August to Sunday 9/3; none
		// moves in 2025 and 2026.
		{"CR", 2023, []string{"01-01", "04-06", "04-07", "04-10", "05-01", "07-24", "08-02", "08-14", "09-03", "09-15", "12-01", "12-25"}},
		{"CR", 2025, []string{"01-01", "04-11", "04-17", "04-18", "05-01", "07-25", "08-02", "08-15", "08-31", "09-15", "12-01", "12-25"}},
		{"CR", 2026, []string{"01-01", "04-02", "04-03", "04-11", "05-01", "07-25", "08-02", "08-15", "08-31", "09-15", "12-01", "12-25"}},
		// Dominican Republic, Law 139-97, against the Ministry of Labour's yearly calendar of holidays
		// for 2023 and its notices for 2025 and 2026: in 2023 the Epiphany moved to Monday 1/9 and
		// Duarte's day to 1/30; in 2025 Labour Day to 5/5 and Constitution Day to 11/10; in 2026 the
		// Epiphany to 1/5, Labour Day to 5/4 and Constitution Day to 11/9.
		{"DO", 2023, []string{"01-01", "01-09", "01-21", "01-30", "02-27", "04-07", "05-01", "06-08", "08-16", "09-24", "11-06", "12-25"}},
		{"DO", 2025, []string{"01-01", "01-06", "01-21", "01-26", "02-27", "04-18", "05-05", "06-19", "08-16", "09-24", "11-10", "12-25"}},
		{"DO", 2026, []string{"01-01", "01-05", "01-21", "01-26", "02-27", "04-03", "05-04", "06-04", "08-16", "09-24", "11-09", "12-25"}},
		// Ecuador, the law of December 2016 reforming the Labour Code and the Organic Law of Public
		// Service, against the Viceministry of Tourism's calendars of national holidays for 2019,
		// 2025 and 2026: in 2019 1 May moved to Friday 5/3, 10 August to Friday 8/9, 9 October to
		// Friday 10/11 and 2 and 3 November (a weekend) to Friday 11/1 and Monday 11/4; in 2025 1
		// May to 5/2, 24 May to 5/23, 10 August to 8/11, 9 October to 10/10 and 2 November (a
		// Sunday) to Tuesday 11/4; in 2026 24 May to 5/25. Not here: the days executive decrees
		// added, 1/2-3 and 10/9/2025 and 1/2/2026.
		{"EC", 2019, []string{"01-01", "03-04", "03-05", "04-19", "05-03", "05-24", "08-09", "10-11", "11-01", "11-04", "12-25"}},
		{"EC", 2025, []string{"01-01", "03-03", "03-04", "04-18", "05-02", "05-23", "08-11", "10-10", "11-03", "11-04", "12-25"}},
		{"EC", 2026, []string{"01-01", "02-16", "02-17", "04-03", "05-01", "05-25", "08-10", "10-09", "11-02", "11-03", "12-25"}},
		// El Salvador, Labour Code art. 190 (as amended for Father's Day in 2013 and Mother's Day by
		// Legislative Decree 339 of 2016), the list the Ministry of Labour applies in its notices:
		// Holy Thursday to Saturday 4/17-19/2025 and 4/2-4/2026. Not here: San Salvador's 3 and 5
		// August and the towns' feast days.
		{"SV", 2025, []string{"01-01", "04-17", "04-18", "04-19", "05-01", "05-10", "06-17", "08-06", "09-15", "11-02", "12-25"}},
		{"SV", 2026, []string{"01-01", "04-02", "04-03", "04-04", "05-01", "05-10", "06-17", "08-06", "09-15", "11-02", "12-25"}},
		// Uruguay, Law 16.805 as worded by Law 17.414, against the yearly calendars of feriados
		// (laborables and no laborables) for 2023, 2025 and 2026: in 2023 19 April moved to Monday
		// 4/17, 18 May to 5/22 and 12 October to 10/16; in 2025 none moved, and 1 March was the
		// presidential handover. Tourism Week is Monday to Sunday of Holy Week.
		{"UY", 2023, []string{"01-01", "01-06", "02-20", "02-21", "04-03", "04-04", "04-05", "04-06", "04-07", "04-08", "04-09", "04-17", "05-01", "05-22", "06-19", "07-18", "08-25", "10-16", "11-02", "12-25"}},
		{"UY", 2025, []string{"01-01", "01-06", "03-01", "03-03", "03-04", "04-14", "04-15", "04-16", "04-17", "04-18", "04-19", "04-20", "05-01", "05-18", "06-19", "07-18", "08-25", "10-12", "11-02", "12-25"}},
		{"UY", 2026, []string{"01-01", "01-06", "02-16", "02-17", "03-30", "03-31", "04-01", "04-02", "04-03", "04-04", "04-05", "04-19", "05-01", "05-18", "06-19", "07-18", "08-25", "10-12", "11-02", "12-25"}},
	}
	for _, tc := range cases {
		var got []string
		for d := time.Date(tc.year, 1, 1, 12, 0, 0, 0, time.UTC); d.Year() == tc.year; d = d.AddDate(0, 0, 1) {
			ok, err := calendar.IsPublicHoliday(d, tc.country, "")
			require.NoError(t, err)
			if ok {
				got = append(got, d.Format("01-02"))
			}
		}
		require.Equal(t, tc.want, got, "%s %d", tc.country, tc.year)
	}
}

// TestLatinAmericaMoves checks the law changes and weekday rules the
// yearly cases do not reach.
func TestLatinAmericaMoves(t *testing.T) {
	t.Parallel()
	cases := []struct {
		date, country string
		want          bool
	}{
		{"2017-10-27", "CL", true},  // 31 October on a Tuesday: the Friday before (Law 20.299)…
		{"2017-10-31", "CL", false}, // …and the date itself is a working day
		{"2018-11-02", "CL", true},  // 31 October on a Wednesday: the Friday after
		{"2018-10-31", "CL", false},
		{"2007-10-31", "CL", false}, // the churches' day is from 2008
		{"2021-09-17", "CL", true},  // 18 September on a Saturday: Friday 17 (Law 20.983)
		{"2010-09-17", "CL", false}, // …not before 2017
		{"2018-09-17", "CL", true},  // 18 September on a Tuesday: Monday 17 (Law 20.215)
		{"2019-09-20", "CL", true},  // 19 September on a Thursday: Friday 20
		{"2017-01-02", "CL", true},  // 1 January on a Sunday: Monday 2 (Law 20.983)
		{"2012-01-02", "CL", false}, // …not before 2017
		{"2021-06-21", "CL", true},  // the law's first Indigenous Peoples' day
		{"2021-06-20", "CL", false},
		{"2022-06-21", "CL", true},
		{"2020-06-20", "CL", false}, // no solstice holiday before 2021
		{"2005-05-23", "CL", true},  // Corpus Christi on the Monday of its week (Law 19.668)…
		{"2005-05-26", "CL", false},
		{"2007-06-04", "CL", false}, // …until 2006
		{"1999-06-03", "CL", true},  // before 2000 on its Thursday
		{"1999-06-29", "CL", true},  // and Saints Peter and Paul on its date
		{"2022-06-27", "CL", true},  // 29 June on a Wednesday: the Monday of its week
		{"2022-06-29", "CL", false},
		{"2028-06-26", "CL", true}, // 29 June on a Thursday: the Monday of its week
		{"2029-07-02", "CL", true}, // 29 June on a Friday: the Monday after
		{"2029-06-29", "CL", false},
		{"2022-12-09", "PE", true}, // Battle of Ayacucho, from 2022
		{"2021-12-09", "PE", false},
		{"2021-08-06", "PE", false}, // Battle of Junín, from 2022
		{"2022-07-23", "PE", false}, // Air Force day, from 2023
		{"2024-04-15", "CR", true},  // Law 9875's 2024 moves…
		{"2024-04-11", "CR", false},
		{"2024-08-15", "CR", true},  // …which left Mother's Day on its date
		{"2022-09-04", "CR", true},  // 31 August kept the Sunday after in 2022
		{"2021-08-31", "CR", false}, // not yet a holiday
		{"2022-05-02", "DO", true},  // Labour Day on a Sunday: the Monday after
		{"2021-05-01", "DO", true},  // …on a Saturday it stays
		{"2021-05-03", "DO", false},
		{"2024-04-29", "DO", true}, // Labour Day on a Wednesday: the Monday before
		{"2024-05-01", "DO", false},
		{"2021-09-24", "DO", true}, // Las Mercedes on a Friday stays
		{"2022-11-03", "EC", true}, // 2 and 3 November on a Wednesday and Thursday: Thursday and Friday
		{"2022-11-04", "EC", true},
		{"2022-11-02", "EC", false},
		{"2022-12-26", "EC", true},  // Christmas on a Sunday: the Monday after
		{"2021-12-24", "EC", true},  // Christmas on a Saturday: the Friday before…
		{"2021-12-31", "EC", true},  // …and New Year 2022 on a Saturday: Friday 31 December
		{"2024-12-23", "EC", false}, // Christmas on a Wednesday stays
		{"2027-11-01", "EC", true},  // 2 and 3 November on a Tuesday and Wednesday: Monday and Tuesday
		{"2027-11-02", "EC", true},
		{"2027-11-03", "EC", false},
		{"2029-11-01", "EC", true}, // 2 and 3 November on a Friday and Saturday: Thursday and Friday
		{"2029-11-02", "EC", true},
		{"2019-04-29", "GT", true}, // in 2019 Labour Day moved too…
		{"2019-10-21", "GT", true}, // …and Revolution Day
		{"2019-07-01", "GT", true}, // Army Day on a Sunday: the Monday after
		{"2022-07-04", "GT", true}, // Army Day on a Thursday: the Monday after
		{"2024-10-20", "GT", true}, // Revolution Day stays since the 2020 ruling
		{"2024-10-21", "GT", false},
		{"2024-07-01", "PA", true}, // the President's inauguration
		{"2025-07-01", "PA", false},
		{"2024-11-04", "PA", true},  // 3 November on a Sunday: the Monday after (art. 47)
		{"2024-12-09", "PA", true},  // 8 December on a Sunday
		{"2021-12-20", "PA", false}, // a rest day from 2022 (Law 291)
		{"2030-03-01", "UY", true},  // a handover year
		{"2027-03-01", "UY", false},
		{"2024-04-22", "UY", true}, // 19 April 2024 was a Friday: the Monday after
		{"2024-04-19", "UY", false},
	}
	for _, tc := range cases {
		d, err := time.Parse(time.DateOnly, tc.date)
		require.NoError(t, err)
		got, err := calendar.IsPublicHoliday(d, tc.country, "")
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%s %s", tc.date, tc.country)
	}
}
