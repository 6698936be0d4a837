package calendar_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ospreyhq/osprey/internal/calendar"
)

// TestHolidayYears checks, day by day over whole years, that a country's
// calendar holds exactly the holidays its official list has, less those the
// calendar leaves out by design (lunar, Hijri and Hindu holidays, yearly
// announced days), which each case names.
func TestHolidayYears(t *testing.T) {
	t.Parallel()
	cases := []struct {
		country string
		year    int
		want    []string // MM-DD
	}{
		// Japan, Cabinet Office, "National Holidays" (www8.cao.go.jp/chosei/shukujitsu/gaiyou.html):
		// substitutes 2/24, 5/6, 11/24 in 2025 and 5/6 in 2026; 9/22/2026 is the day between two holidays.
		{"JP", 2025, []string{"01-01", "01-13", "02-11", "02-23", "02-24", "03-20", "04-29", "05-03", "05-04", "05-05", "05-06", "07-21", "08-11", "09-15", "09-23", "10-13", "11-03", "11-23", "11-24"}},
		{"JP", 2026, []string{"01-01", "01-12", "02-11", "02-23", "03-20", "04-29", "05-03", "05-04", "05-05", "05-06", "07-20", "08-11", "09-21", "09-22", "09-23", "10-12", "11-03", "11-23"}},
		// South Korea, Korea Astronomy and Space Science Institute's yearly list of holidays
		// (astro.kasi.re.kr, "월력요항") and the Ministry of the Interior and Safety: Seollal
		// 1/28-30/2025 and 2/16-18/2026; Buddha's Birthday 5/5/2025 on Children's Day, with one
		// substitute 5/6, and 5/24/2026 (a Sunday) with 5/25; Chuseok 10/5-7/2025 (10/5 a Sunday)
		// with the substitute 10/8, and 9/24-26/2026 (a Saturday gives none); 3/3/2025, 3/2, 8/17
		// and 10/5/2026 are substitutes for national days on weekends. Not here: the presidential
		// election of 6/3/2025 and the local elections of 6/3/2026.
		{"KR", 2025, []string{"01-01", "01-28", "01-29", "01-30", "03-01", "03-03", "05-05", "05-06", "06-06", "08-15", "10-03", "10-05", "10-06", "10-07", "10-08", "10-09", "12-25"}},
		{"KR", 2026, []string{"01-01", "02-16", "02-17", "02-18", "03-01", "03-02", "05-05", "05-24", "05-25", "06-06", "07-17", "08-15", "08-17", "09-24", "09-25", "09-26", "10-03", "10-05", "10-09", "12-25"}},
		// Singapore, Ministry of Manpower, "Public holidays for 2023", "… for 2025" and "… for 2026"
		// (www.mom.gov.sg/employment-practices/public-holidays): Chinese New Year 1/22-23/2023 with
		// 1/24 for the Sunday, 1/29-30/2025, 2/17-18/2026; National Day 2026 is a Sunday, so 8/10 is
		// a holiday. Not here: Hari Raya Puasa, Hari Raya Haji, Vesak Day, Deepavali, Polling Day
		// 5/3/2025.
		{"SG", 2023, []string{"01-01", "01-02", "01-22", "01-23", "01-24", "04-07", "05-01", "08-09", "12-25"}},
		{"SG", 2025, []string{"01-01", "01-29", "01-30", "04-18", "05-01", "08-09", "12-25"}},
		{"SG", 2026, []string{"01-01", "02-17", "02-18", "04-03", "05-01", "08-09", "08-10", "12-25"}},
		// India, Department of Personnel and Training, "Holidays to be observed in Central
		// Government Offices" for 2025 and 2026 (dopt.gov.in): the three national holidays,
		// Good Friday and Christmas of the compulsory list. Not here: its lunar and Hijri ones.
		{"IN", 2025, []string{"01-26", "04-18", "08-15", "10-02", "12-25"}},
		{"IN", 2026, []string{"01-26", "04-03", "08-15", "10-02", "12-25"}},
		// China, General Office of the State Council, notices on the arrangement of holidays
		// for 2025 and for 2026 (www.gov.cn): the statutory days, among them Spring Festival's
		// Eve and first three days (1/28-31/2025, 2/16-19/2026), Qingming (4/4/2025, 4/5/2026),
		// the Dragon Boat Festival (5/31/2025, 6/19/2026) and Mid-Autumn (10/6/2025, 9/25/2026).
		// Not here: the bridge days the notices add (e.g. 2/15, 2/20-23/2026).
		{"CN", 2025, []string{"01-01", "01-28", "01-29", "01-30", "01-31", "04-04", "05-01", "05-02", "05-31", "10-01", "10-02", "10-03", "10-06"}},
		{"CN", 2026, []string{"01-01", "02-16", "02-17", "02-18", "02-19", "04-05", "05-01", "05-02", "06-19", "09-25", "10-01", "10-02", "10-03"}},
		// China before the 2024 revision, General Office of the State Council, notice for 2024:
		// Spring Festival's first three days (2/10-12), Qingming 4/4, Labour Day one day, Dragon
		// Boat 6/10, Mid-Autumn 9/17.
		{"CN", 2024, []string{"01-01", "02-10", "02-11", "02-12", "04-04", "05-01", "06-10", "09-17", "10-01", "10-02", "10-03"}},
		// Colombia, Law 51 of 1983 (www.secretariasenado.gov.co), as the Ministry of Labour's
		// yearly calendar of holidays dates it: 6/30/2025 is both Sacred Heart and Saints Peter
		// and Paul.
		{"CO", 2025, []string{"01-01", "01-06", "03-24", "04-17", "04-18", "05-01", "06-02", "06-23", "06-30", "07-20", "08-07", "08-18", "10-13", "11-03", "11-17", "12-08", "12-25"}},
		{"CO", 2026, []string{"01-01", "01-12", "03-23", "04-02", "04-03", "05-01", "05-18", "06-08", "06-15", "06-29", "07-20", "08-07", "08-17", "10-12", "11-02", "11-16", "12-08", "12-25"}},
		// Hong Kong, the general holidays the Government gazetted for 2025 and for 2026
		// (www.info.gov.hk, press releases of 2024 and of 16 May 2025), besides every Sunday. In
		// 2026 Ching Ming (4/5), the Buddha's Birthday (5/24) and Chung Yeung (10/18) fall on
		// Sundays, which count as their days here, and their substitutes are 4/7 (4/6 being Easter
		// Monday), 5/25 and 10/19; 4/4/2026 is the day following Good Friday.
		{"HK", 2025, []string{"01-01", "01-29", "01-30", "01-31", "04-04", "04-18", "04-19", "04-21", "05-01", "05-05", "05-31", "07-01", "10-01", "10-07", "10-29", "12-25", "12-26"}},
		{"HK", 2026, []string{"01-01", "02-17", "02-18", "02-19", "04-03", "04-04", "04-05", "04-06", "04-07", "05-01", "05-24", "05-25", "06-19", "07-01", "09-26", "10-01", "10-18", "10-19", "12-25", "12-26"}},
		// Vietnam, the holiday schedules the Prime Minister approved for 2025 (Ministry of Labour,
		// Invalids and Social Affairs, 26 November and 3 December 2024) and for 2026 (Ministry of
		// Home Affairs): Tết's eve and first three days (1/28-31/2025, 2/16-19/2026); the Hung
		// Kings' Commemoration 4/7/2025 and 4/26/2026, a Sunday, with the day in lieu 4/27. Not
		// here: Tết's fifth day (1/27/2025, 2/20/2026), National Day's second day (9/1/2025), and
		// the bridge days swapped for working Saturdays (5/2/2025), set each year.
		{"VN", 2025, []string{"01-01", "01-28", "01-29", "01-30", "01-31", "04-07", "04-30", "05-01", "09-02"}},
		{"VN", 2026, []string{"01-01", "02-16", "02-17", "02-18", "02-19", "04-26", "04-27", "04-30", "05-01", "09-02"}},
		// Taiwan, Directorate-General of Personnel Administration, the government's office
		// calendars for 2025 (as revised on 13 June 2025, with the three memorial days the
		// amended Act added) and for 2026 (www.dgpa.gov.tw): Children's Day on Tomb Sweeping
		// Day 4/4/2025 is kept on 4/3; made up are 5/30, 9/29 and 10/24/2025, and 2/20 (for the
		// day before Lunar New Year's Eve, a Sunday), 2/27, 4/3, 4/6, 10/9 and 10/26/2026. Not
		// here: the bridge day 1/27/2025, for which 2/8 was worked.
		{"TW", 2025, []string{"01-01", "01-28", "01-29", "01-30", "01-31", "02-28", "04-03", "04-04", "05-30", "05-31", "09-28", "09-29", "10-06", "10-10", "10-24", "10-25", "12-25"}},
		{"TW", 2026, []string{"01-01", "02-15", "02-16", "02-17", "02-18", "02-19", "02-20", "02-27", "02-28", "04-03", "04-04", "04-05", "04-06", "05-01", "06-19", "09-25", "09-28", "10-09", "10-10", "10-25", "10-26", "12-25"}},
		// Philippines, the regular holidays of Proclamation No. 727 (2025) and No. 1006 (2026).
		// Not here: Eid'l Fitr and Eid'l Adha, and the special (non-working) days, proclaimed
		// each year (e.g. Chinese New Year, Black Saturday, Ninoy Aquino Day, All Saints' Day).
		{"PH", 2025, []string{"01-01", "04-09", "04-17", "04-18", "05-01", "06-12", "08-25", "11-30", "12-25", "12-30"}},
		{"PH", 2026, []string{"01-01", "04-02", "04-03", "04-09", "05-01", "06-12", "08-31", "11-30", "12-25", "12-30"}},
		// Indonesia, the joint decrees of the Ministers of Religious Affairs, of Manpower and of
		// Administrative Reform on national holidays and collective leave for 2025 (No. 1017 of
		// 2024) and for 2026 (of 19 September 2025). Not here: Isra Mi'raj, Chinese New Year
		// (1/29/2025, 2/17/2026), Nyepi, Eid al-Fitr, Vesak, Eid al-Adha, the Islamic New Year and
		// the Prophet's Birthday, and the collective leave days.
		{"ID", 2025, []string{"01-01", "04-18", "04-20", "05-01", "05-29", "06-01", "08-17", "12-25"}},
		{"ID", 2026, []string{"01-01", "04-03", "04-05", "05-01", "05-14", "06-01", "08-17", "12-25"}},
		// Turkey, Law No. 2429 on National Holidays and General Holidays (www.mevzuat.gov.tr).
		// Not here: Ramazan and Kurban Bayramı and their eves, the afternoon of 10/28.
		{"TR", 2025, []string{"01-01", "04-23", "05-01", "05-19", "07-15", "08-30", "10-29"}},
		{"TR", 2026, []string{"01-01", "04-23", "05-01", "05-19", "07-15", "08-30", "10-29"}},
		// Mexico, Federal Labour Law, art. 74 (www.diputados.gob.mx/LeyesBiblio/pdf/LFT.pdf): 2024
		// has the presidential handover on 10/1.
		{"MX", 2024, []string{"01-01", "02-05", "03-18", "05-01", "09-16", "10-01", "11-18", "12-25"}},
		{"MX", 2026, []string{"01-01", "02-02", "03-16", "05-01", "09-16", "11-16", "12-25"}},
		// Luxembourg, Guichet.lu "Public holidays" (guichet.public.lu): Easter Sunday and
		// Whit Sunday are not listed as their own days off.
		{"LU", 2025, []string{"01-01", "04-21", "05-01", "05-09", "05-29", "06-09", "06-23", "08-15", "11-01", "12-25", "12-26"}},
		{"LU", 2026, []string{"01-01", "04-06", "05-01", "05-09", "05-14", "05-25", "06-23", "08-15", "11-01", "12-25", "12-26"}},
	}
	for _, tc := range cases {
		want := map[string]bool{}
		for _, d := range tc.want {
			want[d] = true
		}
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
