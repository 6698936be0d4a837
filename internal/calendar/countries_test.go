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
		// (astro.kasi.re.kr) and the Ministry of the Interior and Safety: 3/3/2025, 3/2, 8/17 and
		// 10/5/2026 are substitutes. Not here: Seollal (1/28-30/2025, 2/16-18/2026), Buddha's Birthday
		// (5/5/2025 with its substitute 5/6, 5/24/2026 with 5/25), Chuseok (10/5-7/2025 with the
		// substitute 10/8, 9/24-26/2026), the presidential election of 6/3/2025 and the local
		// elections of 6/3/2026.
		{"KR", 2025, []string{"01-01", "03-01", "03-03", "05-05", "06-06", "08-15", "10-03", "10-09", "12-25"}},
		{"KR", 2026, []string{"01-01", "03-01", "03-02", "05-05", "06-06", "07-17", "08-15", "08-17", "10-03", "10-05", "10-09", "12-25"}},
		// Singapore, Ministry of Manpower, "Public holidays for 2025" and "… for 2026"
		// (www.mom.gov.sg/employment-practices/public-holidays): National Day 2026 is a Sunday, so
		// 8/10 is a holiday. Not here: Chinese New Year, Hari Raya Puasa, Hari Raya Haji, Vesak
		// Day, Deepavali, and Polling Day 5/3/2025.
		{"SG", 2025, []string{"01-01", "04-18", "05-01", "08-09", "12-25"}},
		{"SG", 2026, []string{"01-01", "04-03", "05-01", "08-09", "08-10", "12-25"}},
		// India, Department of Personnel and Training, "Holidays to be observed in Central
		// Government Offices" for 2025 and 2026 (dopt.gov.in): the three national holidays,
		// Good Friday and Christmas of the compulsory list. Not here: its lunar and Hijri ones.
		{"IN", 2025, []string{"01-26", "04-18", "08-15", "10-02", "12-25"}},
		{"IN", 2026, []string{"01-26", "04-03", "08-15", "10-02", "12-25"}},
		// China, General Office of the State Council, notices on the arrangement of holidays
		// for 2025 and for 2026 (www.gov.cn): the statutory days on fixed dates. Not here: Spring
		// Festival, Qingming, Dragon Boat, Mid-Autumn, and the bridge days the notices add.
		{"CN", 2025, []string{"01-01", "05-01", "05-02", "10-01", "10-02", "10-03"}},
		{"CN", 2026, []string{"01-01", "05-01", "05-02", "10-01", "10-02", "10-03"}},
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
