package calendar_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/internal/calendar"
)

// yearCase is a country's whole year of holidays as an official list or
// the law gives them, less those its calendar leaves out by design.
type yearCase struct {
	country string
	year    int
	want    []string // MM-DD
}

// requireYears checks each case day by day over its whole year.
func requireYears(t *testing.T, cases []yearCase) {
	t.Helper()
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

// TestEMEAHolidayYears checks the calendars of emea.go and israel.go as
// TestHolidayYears does the others.
func TestEMEAHolidayYears(t *testing.T) {
	t.Parallel()
	requireYears(t, []yearCase{
		// Israel, Bank of Israel, "Holidays observed by the Bank of Israel in 2013" and "… in 2015"
		// (boi.org.il), which list the public holidays that are not Saturdays: Yom Kippur 9/14/2013
		// and Pesach 4/4/2015 were Saturdays, days of rest by the Law and Administration Ordinance,
		// s. 18A. Independence Day moved from Monday 4/15/2013 to Tuesday and from Friday 4/24/2015
		// to Thursday. Not here: the election days (1/22/2013, 3/17/2015), Purim and the Ninth of
		// Av, on which banks close but which are no public days of rest.
		{"IL", 2013, []string{"03-26", "04-01", "04-16", "05-15", "09-05", "09-06", "09-14", "09-19", "09-26"}},
		{"IL", 2015, []string{"04-04", "04-10", "04-23", "05-24", "09-14", "09-15", "09-23", "09-28", "10-05"}},
		// Liechtenstein, Arbeitsgesetz Art. 18 Abs. 2 (LGBl. 1986 Nr. 85, www.gesetze.li), whose
		// days the Landesverwaltung's yearly lists repeat: Easter on 4/9/2023, 4/20/2025, 4/5/2026.
		{"LI", 2023, []string{"01-01", "01-06", "04-10", "05-01", "05-18", "05-29", "06-08", "08-15", "09-08", "11-01", "12-08", "12-25", "12-26"}},
		{"LI", 2025, []string{"01-01", "01-06", "04-21", "05-01", "05-29", "06-09", "06-19", "08-15", "09-08", "11-01", "12-08", "12-25", "12-26"}},
		{"LI", 2026, []string{"01-01", "01-06", "04-06", "05-01", "05-14", "05-25", "06-04", "08-15", "09-08", "11-01", "12-08", "12-25", "12-26"}},
		// Georgia, National Parliamentary Library of Georgia, "Public Holidays in Georgia"
		// (www.nplg.gov.ge/eng/days), the Labour Code's list as the Organic Law No 729 of 12 June
		// 2013 gives it: Orthodox Easter on 5/5/2024, 4/20/2025, 4/12/2026. Not here: the days
		// off the government declared by resolution (5/7, 5/8, 5/10 and 5/17/2024, 1/5-6/2026).
		{"GE", 2024, []string{"01-01", "01-02", "01-07", "01-19", "03-03", "03-08", "04-09", "05-03", "05-04", "05-05", "05-06", "05-09", "05-12", "05-26", "08-28", "10-14", "11-23"}},
		{"GE", 2025, []string{"01-01", "01-02", "01-07", "01-19", "03-03", "03-08", "04-09", "04-18", "04-19", "04-20", "04-21", "05-09", "05-12", "05-26", "08-28", "10-14", "11-23"}},
		{"GE", 2026, []string{"01-01", "01-02", "01-07", "01-19", "03-03", "03-08", "04-09", "04-10", "04-11", "04-12", "04-13", "05-09", "05-12", "05-26", "08-28", "10-14", "11-23"}},
		// North Macedonia, Ministry of Labour and Social Policy, "Programme of non-working days"
		// for 2023, 2025 and 2026 (mtsp.gov.mk), for all citizens: 1/2/2023, 5/25, 8/3 and
		// 10/12/2026 follow a Sunday holiday; Saturdays are not moved (5/24, 8/2, 10/11/2025).
		// Not here: Ramazan Bajram (4/21/2023, 3/30/2025 with 3/31, 3/20/2026).
		{"MK", 2023, []string{"01-01", "01-02", "01-07", "04-17", "05-01", "05-24", "08-02", "09-08", "10-11", "10-23", "12-08"}},
		{"MK", 2025, []string{"01-01", "01-07", "04-21", "05-01", "05-24", "08-02", "09-08", "10-11", "10-23", "12-08"}},
		{"MK", 2026, []string{"01-01", "01-07", "04-13", "05-01", "05-24", "05-25", "08-02", "08-03", "09-08", "10-11", "10-12", "10-23", "12-08"}},
		// Moldova, Labour Code art. 111 (www.legis.md), with 1 June from the law published in the
		// Monitorul Oficial of 30 June 2023, the days it names in those years (the press's list of
		// 2026 agrees): Orthodox Easter on 4/16/2023, 4/20/2025, 4/12/2026. Not here: the local
		// Hram days (Chișinău's 10/14), the government's transfers of days off.
		{"MD", 2023, []string{"01-01", "01-07", "01-08", "03-08", "04-16", "04-17", "04-24", "05-01", "05-09", "08-27", "08-31", "12-25"}},
		{"MD", 2025, []string{"01-01", "01-07", "01-08", "03-08", "04-20", "04-21", "04-28", "05-01", "05-09", "06-01", "08-27", "08-31", "12-25"}},
		{"MD", 2026, []string{"01-01", "01-07", "01-08", "03-08", "04-12", "04-13", "04-20", "05-01", "05-09", "06-01", "08-27", "08-31", "12-25"}},
		// Belarus, Decree No. 157 of 26 March 1998 as amended (pravo.by), non-working days; 2012 as
		// the list published for it (no 2 January then; Radunitsa 4/24), 2025 and 2026 with
		// Radunitsa 4/29 and 4/21. Not here: the Council of Ministers' transfers of working days.
		{"BY", 2012, []string{"01-01", "01-07", "03-08", "04-24", "05-01", "05-09", "07-03", "11-07", "12-25"}},
		{"BY", 2025, []string{"01-01", "01-02", "01-07", "03-08", "04-29", "05-01", "05-09", "07-03", "11-07", "12-25"}},
		{"BY", 2026, []string{"01-01", "01-02", "01-07", "03-08", "04-21", "05-01", "05-09", "07-03", "11-07", "12-25"}},
		// Morocco, decree No. 2-04-426 of 29 December 2004 fixing the list of paid holidays, and
		// the decrees the Government Council adopted on 23 November 2023 adding 14 January, as
		// reported with the whole list (le360.ma, 23 November 2023). Not here: 1 Muharram, the
		// Mawlid, Eid al-Fitr and Eid al-Adha, dated by moon sighting.
		{"MA", 2023, []string{"01-01", "01-11", "05-01", "07-30", "08-14", "08-20", "08-21", "11-06", "11-18"}},
		{"MA", 2025, []string{"01-01", "01-11", "01-14", "05-01", "07-30", "08-14", "08-20", "08-21", "11-06", "11-18"}},
		{"MA", 2026, []string{"01-01", "01-11", "01-14", "05-01", "07-30", "08-14", "08-20", "08-21", "11-06", "11-18"}},
		// Algeria, law No. 63-278 of 26 July 1963 fixing the list of legal holidays, as amended by
		// laws No. 05-06 and No. 18-12 (Journal officiel), whose days the Direction générale de la
		// Fonction publique's communiqués confirm each year (Yennayer on 1/12/2024 and 1/12/2026).
		// Not here: Awal Moharram, Achoura, the Mawlid, Eid al-Fitr (2 days), Eid al-Adha (2 days).
		{"DZ", 2017, []string{"01-01", "05-01", "07-05", "11-01"}},
		{"DZ", 2025, []string{"01-01", "01-12", "05-01", "07-05", "11-01"}},
		{"DZ", 2026, []string{"01-01", "01-12", "05-01", "07-05", "11-01"}},
		// Nigeria, Public Holidays Act (Cap. P40) as amended in 2019, as the Ministry of Interior
		// declared its days (statements of December 2021 and 2022 giving 1/3/2022, 12/26-27/2022
		// and 1/2/2023; 6/12/2023): 6/13/2022, 10/3/2022 and 10/2/2023 follow a weekend holiday.
		// Not here: Eid-el-Fitr, Eid-el-Kabir, Eid-el-Maulud, the inauguration day of 5/29/2023.
		{"NG", 2022, []string{"01-01", "01-03", "04-15", "04-18", "05-01", "05-02", "06-12", "06-13", "10-01", "10-03", "12-25", "12-26", "12-27"}},
		{"NG", 2023, []string{"01-01", "01-02", "04-07", "04-10", "05-01", "06-12", "10-01", "10-02", "12-25", "12-26"}},
		// Tunisia, presidential decree No. 2021-223 of 7 December 2021 fixing the public holidays
		// of the state's staff (JORT 2021-113); 2021 still had 14 January, and 17 December from
		// the decree on. Not here: the Hijri New Year, the Mouled, Aïd el-Fitr (3 days), Aïd
		// el-Idha (2 days).
		{"TN", 2021, []string{"01-01", "01-14", "03-20", "04-09", "05-01", "07-25", "08-13", "10-15", "12-17"}},
		{"TN", 2024, []string{"01-01", "03-20", "04-09", "05-01", "07-25", "08-13", "10-15", "12-17"}},
		{"TN", 2025, []string{"01-01", "03-20", "04-09", "05-01", "07-25", "08-13", "10-15", "12-17"}},
		// Andorra, the Govern's decrees of the labour calendar for 2019 and 2023 (BOPA), as
		// reported with their fourteen days: Carnival Monday 3/4/2019 and 2/20/2023; 1/6 and 12/8
		// on Sundays in 2019 are not moved. Not here: each parish's own days.
		{"AD", 2019, []string{"01-01", "01-06", "03-04", "03-14", "04-19", "04-22", "05-01", "06-10", "08-15", "09-08", "11-01", "12-08", "12-25", "12-26"}},
		{"AD", 2023, []string{"01-01", "01-06", "02-20", "03-14", "04-07", "04-10", "05-01", "05-29", "08-15", "09-08", "11-01", "12-08", "12-25", "12-26"}},
	})
}

// TestHebrewCalendar checks the Hebrew calendar's arithmetic against the
// dates of Rosh Hashana and Pesach a Jewish calendar gives over years of
// every kind (common and leap, deficient, regular and complete), and
// Independence Day's moves.
func TestHebrewCalendar(t *testing.T) {
	t.Parallel()
	for _, d := range []string{
		"2017-09-21", "2017-09-22", // Rosh Hashana 5778, Thursday and Friday
		"2024-10-03", "2024-10-04", // 5785, after a leap year
		"2025-09-23", "2025-09-24", // 5786
		"2026-09-12", "2026-09-13", // 5787, on a Saturday
		"2027-10-02", "2027-10-11", // 5788, and Yom Kippur
		"2024-04-23", "2024-04-29", // Pesach 5784, first and seventh days, in a leap year
		"2026-04-02", "2026-04-08", // Pesach 5786
		"2024-05-14", // 5 Iyar on Monday 13 May 2024, kept on Tuesday
		"2025-05-01", // 5 Iyar on Saturday 3 May 2025, kept on Thursday
		"2026-04-22", // 5 Iyar on a Wednesday stays
		"2026-05-22", // Shavuot
		"2004-04-27", // 5 Iyar on Monday 26 April 2004, the first year of the Tuesday rule
	} {
		day, err := time.Parse(time.DateOnly, d)
		require.NoError(t, err)
		ok, err := calendar.IsPublicHoliday(day, "IL", "")
		require.NoError(t, err)
		require.True(t, ok, d)
	}
	for _, d := range []string{
		"2024-05-13", // the Monday 5 Iyar itself
		"2025-05-03", // the Saturday 5 Iyar
		"2025-05-02", // nor the Friday
		"2025-04-14", // an intermediate day of Pesach
		"2025-09-22", // the eve of Rosh Hashana
	} {
		day, err := time.Parse(time.DateOnly, d)
		require.NoError(t, err)
		ok, err := calendar.IsPublicHoliday(day, "IL", "")
		require.NoError(t, err)
		require.False(t, ok, d)
	}
}

// TestEMEADays checks single days: substitutes and the years a holiday
// begins or ends.
func TestEMEADays(t *testing.T) {
	t.Parallel()
	cases := []struct {
		date, country string
		want          bool
	}{
		{"2021-12-27", "NG", true}, // Christmas on a Saturday…
		{"2021-12-28", "NG", true}, // …and Boxing Day on a Sunday, declared on Monday and Tuesday
		{"2018-05-29", "NG", true}, // Democracy Day before 2019…
		{"2019-05-29", "NG", false},
		{"2019-06-12", "NG", true},  // …and from then
		{"2023-06-01", "MD", false}, // Children's Day is a holiday from 2024
		{"2024-06-01", "MD", true},
		{"2019-01-02", "BY", false}, // 2 January from 2020
		{"2020-01-02", "BY", true},
		{"2023-01-14", "MA", false}, // the Amazigh New Year from 2024
		{"2024-01-14", "MA", true},
		{"2017-01-12", "DZ", false}, // Yennayer from 2018
		{"2018-01-12", "DZ", true},
		{"2024-01-08", "MK", true},  // Orthodox Christmas on a Sunday
		{"2021-05-04", "GE", false}, // the day after Orthodox Easter Monday
		{"2021-05-03", "GE", true},
		{"2022-01-14", "TN", false}, // the Revolution Day moved to 17 December in 2021
		{"2020-12-17", "TN", false},
		{"2022-12-17", "TN", true},
		{"2026-02-16", "AD", true},  // Carnival Monday, 48 days before Easter
		{"2026-04-05", "IL", false}, // Western Easter is no holiday in Israel
	}
	for _, tc := range cases {
		day, err := time.Parse(time.DateOnly, tc.date)
		require.NoError(t, err)
		got, err := calendar.IsPublicHoliday(day, tc.country, "")
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%s %s", tc.date, tc.country)
	}
}
