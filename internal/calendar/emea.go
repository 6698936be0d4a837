package calendar

import (
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
)

// The calendars below are for countries of Europe, the Middle East and
// Africa that rickar/cal has no package for, written on its building
// blocks as those in countries.go are. Each holds the days a law fixes on
// the Gregorian calendar or counts from Easter, Western or Orthodox
// (rickar/cal computes both); Hijri holidays are left out for the reason
// countries.go gives. Their tests name the law and the official list each
// was checked against.

// orthodox is a holiday offset days from Orthodox Easter Sunday (Easter
// reckoned on the Julian calendar, given as a Gregorian date).
func orthodox(name string, offset int) *cal.Holiday {
	return &cal.Holiday{Name: name, Type: cal.ObservancePublic, Offset: offset, Julian: true, Func: cal.CalcEasterOffset}
}

// holidaysLI are Liechtenstein's public holidays, which the Labour Act
// makes equal to Sundays (Arbeitsgesetz, Art. 18 Abs. 2, as amended in
// 1986). The bank holidays (Berchtoldstag, Fasnachtsdienstag, Good Friday,
// 24 and 31 December) and the days some collective agreements add
// (Candlemas, St Joseph) are not public holidays.
var holidaysLI = []*cal.Holiday{
	public(aa.NewYear),
	public(aa.Epiphany),
	public(aa.EasterMonday),
	fixed("Tag der Arbeit", time.May, 1, 0, nil),
	public(aa.AscensionDay),
	public(aa.PentecostMonday),
	public(aa.CorpusChristi),
	fixed("Staatsfeiertag", time.August, 15, 0, nil),
	fixed("Mariä Geburt", time.September, 8, 0, nil),
	public(aa.AllSaintsDay),
	public(aa.ImmaculateConception),
	public(aa.ChristmasDay),
	fixed("Stephanstag", time.December, 26, 0, nil),
}

// holidaysGE are Georgia's public holidays (Labour Code, Article 30, as
// the Organic Law of 12 June 2013 gives them): the Orthodox Easter days
// are Good Friday to Easter Monday, which is also the day of remembrance
// of the dead. The law gives no substitute days; the days off the
// government declares by resolution for one year (17 May 2024, 5 and 6
// January 2026, …) are not here.
var holidaysGE = []*cal.Holiday{
	fixed("ახალი წელი", time.January, 1, 0, nil),
	fixed("ახალი წელი", time.January, 2, 0, nil),
	fixed("ქრისტეშობა", time.January, 7, 0, nil),
	fixed("ნათლისღება", time.January, 19, 0, nil),
	fixed("დედის დღე", time.March, 3, 0, nil),
	fixed("ქალთა საერთაშორისო დღე", time.March, 8, 0, nil),
	fixed("ეროვნული ერთიანობის დღე", time.April, 9, 0, nil),
	orthodox("წითელი პარასკევი", -2),
	orthodox("დიდი შაბათი", -1),
	orthodox("აღდგომა", 0),
	orthodox("მიცვალებულთა მოხსენიების დღე", 1),
	fixed("ფაშიზმზე გამარჯვების დღე", time.May, 9, 0, nil),
	fixed("ანდრიაობა", time.May, 12, 0, nil),
	fixed("დამოუკიდებლობის დღე", time.May, 26, 0, nil),
	fixed("მარიამობა", time.August, 28, 0, nil),
	fixed("სვეტიცხოვლობა", time.October, 14, 0, nil),
	fixed("გიორგობა", time.November, 23, 0, nil),
}

// holidaysMK are North Macedonia's non-working days for all citizens
// (Law on Holidays, Official Gazette 21/98 and 18/07): one that falls on a
// Sunday is followed by a non-working Monday, one on a Saturday is not
// moved. Ramazan Bajram, a non-working day for all, follows the Hijri
// calendar; the days off for the believers of one faith or the members of
// one community (Orthodox Good Friday, Yom Kippur, …) are not for all
// citizens; election days are declared for each election.
var holidaysMK = []*cal.Holiday{
	fixed("Нова година", time.January, 1, 0, sundayToMonday),
	fixed("Божиќ", time.January, 7, 0, sundayToMonday),
	orthodox("Велигден", 1),
	fixed("Ден на трудот", time.May, 1, 0, sundayToMonday),
	fixed("Св. Кирил и Методиј", time.May, 24, 0, sundayToMonday),
	fixed("Ден на Републиката", time.August, 2, 0, sundayToMonday),
	fixed("Ден на независноста", time.September, 8, 0, sundayToMonday),
	fixed("Ден на народното востание", time.October, 11, 0, sundayToMonday),
	fixed("Ден на македонската револуционерна борба", time.October, 23, 0, sundayToMonday),
	fixed("Св. Климент Охридски", time.December, 8, 0, sundayToMonday),
}

// holidaysMD are Moldova's non-working holidays (Labour Code, art. 111):
// Western Christmas from 2013 and Children's Day from 2024 (the law of
// June 2023), the Orthodox Easter days and Paștele Blajinilor, the Monday
// a week after Easter. The law gives no weekend substitutes. Each
// locality's church feast (Hram), set by its council, and the days off
// the government moves by decision for one year are not here.
var holidaysMD = []*cal.Holiday{
	fixed("Anul Nou", time.January, 1, 0, nil),
	fixed("Crăciunul pe stil vechi", time.January, 7, 0, nil),
	fixed("Crăciunul pe stil vechi", time.January, 8, 0, nil),
	fixed("Ziua internațională a femeii", time.March, 8, 0, nil),
	orthodox("Paștele", 0),
	orthodox("Paștele", 1),
	orthodox("Paștele Blajinilor", 8),
	fixed("Ziua internațională a solidarității oamenilor muncii", time.May, 1, 0, nil),
	fixed("Ziua Victoriei și Ziua Europei", time.May, 9, 0, nil),
	fixed("Ziua ocrotirii copilului", time.June, 1, 2024, nil),
	fixed("Ziua Independenței", time.August, 27, 0, nil),
	fixed("Limba noastră", time.August, 31, 0, nil),
	fixed("Crăciunul pe stil nou", time.December, 25, 2013, nil),
}

// holidaysBY are Belarus's non-working holidays (Labour Code art. 147 and
// the President's Decree No. 157 of 26 March 1998; 2 January from 2020 by
// Decree No. 464 of 17 December 2019): Radunitsa is the Tuesday nine days
// after Orthodox Easter. No day is moved off a weekend; the working days
// the Council of Ministers moves each year to bridge holidays (its yearly
// resolution) are not here.
var holidaysBY = []*cal.Holiday{
	fixed("Новый год", time.January, 1, 0, nil),
	fixed("Новый год", time.January, 2, 2020, nil),
	fixed("Рождество Христово (православное)", time.January, 7, 0, nil),
	fixed("День женщин", time.March, 8, 0, nil),
	orthodox("Радуница", 9),
	fixed("Праздник труда", time.May, 1, 0, nil),
	fixed("День Победы", time.May, 9, 0, nil),
	fixed("День Независимости", time.July, 3, 0, nil),
	fixed("День Октябрьской революции", time.November, 7, 0, nil),
	fixed("Рождество Христово (католическое)", time.December, 25, 0, nil),
}

// holidaysMA are Morocco's public holidays on Gregorian dates (decree No.
// 2-04-426 of 29 December 2004 for private employers, and its public
// sector twin), with the Amazigh New Year from 2024 (decrees adopted on 23
// November 2023). No day moves off a weekend. The four Hijri holidays
// (1 Muharram, the Mawlid, Eid al-Fitr, Eid al-Adha) are dated by the
// Ministry of Habous' moon sighting, so they are not here.
var holidaysMA = []*cal.Holiday{
	fixed("Nouvel An", time.January, 1, 0, nil),
	fixed("Manifeste de l'indépendance", time.January, 11, 0, nil),
	fixed("Nouvel An amazigh", time.January, 14, 2024, nil),
	fixed("Fête du Travail", time.May, 1, 0, nil),
	fixed("Fête du Trône", time.July, 30, 0, nil),
	fixed("Journée de Oued Eddahab", time.August, 14, 0, nil),
	fixed("Révolution du Roi et du Peuple", time.August, 20, 0, nil),
	fixed("Fête de la Jeunesse", time.August, 21, 0, nil),
	fixed("Marche Verte", time.November, 6, 0, nil),
	fixed("Fête de l'Indépendance", time.November, 18, 0, nil),
}

// holidaysDZ are Algeria's legal holidays on Gregorian dates (law No.
// 63-278 of 26 July 1963 as amended: 19 June dropped by law No. 05-06 of
// 2005, Yennayer added from 2018 by law No. 18-12 of 2 July 2018). None
// moves off the Friday-Saturday weekend. The Hijri ones (Awal Moharram,
// Achoura, the Mawlid, Eid al-Fitr and Eid al-Adha) follow moon sighting;
// the Christian and Jewish holidays the law gives to their believers only
// are not everyone's.
var holidaysDZ = []*cal.Holiday{
	fixed("Jour de l'An", time.January, 1, 0, nil),
	fixed("Yennayer", time.January, 12, 2018, nil),
	fixed("Fête du Travail", time.May, 1, 0, nil),
	fixed("Fête de l'Indépendance", time.July, 5, 0, nil),
	fixed("Fête de la Révolution", time.November, 1, 0, nil),
}

// nextWeekday moves a holiday on a Saturday or a Sunday two days on: to
// the Monday, or, after a holiday the day before, to the Tuesday.
var nextWeekday = []cal.AltDay{{Day: time.Saturday, Offset: 2}, {Day: time.Sunday, Offset: 2}}

// holidaysNG are Nigeria's public holidays of the Public Holidays Act
// (Cap. P40) on Gregorian dates and Easter, with Democracy Day on 12 June
// from 2019 (on 29 May before; the Act's 2019 amendment). A holiday on a
// Saturday or Sunday gives the next weekday not itself a holiday, as the
// Ministry of Interior declares it. Eid-el-Fitr, Eid-el-Kabir and
// Eid-el-Maulud follow the Hijri calendar; the days the Federal Government
// declares for one occasion (an inauguration) are not here.
var holidaysNG = []*cal.Holiday{
	fixed("New Year's Day", time.January, 1, 0, weekendToMonday),
	public(aa.GoodFriday),
	public(aa.EasterMonday),
	fixed("Workers' Day", time.May, 1, 0, weekendToMonday),
	until(fixed("Democracy Day", time.May, 29, 2000, weekendToMonday), 2018),
	fixed("Democracy Day", time.June, 12, 2019, weekendToMonday),
	fixed("Independence Day", time.October, 1, 0, weekendToMonday),
	fixed("Christmas Day", time.December, 25, 0, nextWeekday),
	fixed("Boxing Day", time.December, 26, 0, nextWeekday),
}

// holidaysTN are Tunisia's public holidays on Gregorian dates, those of
// the state's staff (presidential decree No. 2021-223 of 7 December 2021,
// which moved the Revolution Day from 14 January to 17 December; decree
// No. 2011-317 before). Private employers give a shorter list by
// collective agreement. The Hijri New Year, the Mouled, Aïd el-Fitr and
// Aïd el-Idha follow the Grand Mufti's moon sighting.
var holidaysTN = []*cal.Holiday{
	fixed("Jour de l'An", time.January, 1, 0, nil),
	until(fixed("Fête de la Révolution et de la Jeunesse", time.January, 14, 2011, nil), 2021),
	fixed("Fête de l'Indépendance", time.March, 20, 0, nil),
	fixed("Journée des Martyrs", time.April, 9, 0, nil),
	fixed("Fête du Travail", time.May, 1, 0, nil),
	fixed("Fête de la République", time.July, 25, 0, nil),
	fixed("Fête de la Femme", time.August, 13, 0, nil),
	fixed("Fête de l'Évacuation", time.October, 15, 0, nil),
	fixed("Fête de la Révolution", time.December, 17, 2021, nil),
}

// holidaysAD are Andorra's fourteen public holidays, which the
// government's yearly labour calendar decree makes obligatory, paid and
// not to be made up in all but the tourist trades (those give them on
// another day): Carnival Monday is 48 days before Easter. None moves off a
// weekend. The up to four days each parish's council adds are local.
var holidaysAD = []*cal.Holiday{
	public(aa.NewYear),
	public(aa.Epiphany),
	easter("Carnaval", -48),
	fixed("Dia de la Constitució", time.March, 14, 1994, nil),
	public(aa.GoodFriday),
	public(aa.EasterMonday),
	fixed("Festa del Treball", time.May, 1, 0, nil),
	public(aa.PentecostMonday),
	public(aa.AssumptionOfMary),
	fixed("Nostra Senyora de Meritxell", time.September, 8, 0, nil),
	public(aa.AllSaintsDay),
	public(aa.ImmaculateConception),
	public(aa.ChristmasDay),
	fixed("Sant Esteve", time.December, 26, 0, nil),
}
