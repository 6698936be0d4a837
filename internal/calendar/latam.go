package calendar

import (
	"time"

	"github.com/6tail/lunar-go/calendar"
	"github.com/rickar/cal/v2"
)

// Latin American calendars rickar/cal has no package for (it has AR, BR
// and MX only), written from each country's law on rickar/cal's building
// blocks, as in countries.go. Several of these laws move a holiday to
// another weekday by the weekday its date falls on; the date itself is
// then an ordinary working day, so the holiday's day is the moved one
// (not an observed day beside the date, as rickar/cal's substitutes are).
// Days declared for one year (elections, bridge days a decree adds) are
// left out: the tests name them.

// weekdayMove gives, for each weekday a date can fall on, the days the
// law moves the holiday by (0: it stays on its date).
type weekdayMove [7]int

// movedFixed is a holiday on day of month m, kept from start (0: always),
// on the day move gives for the weekday it falls on.
func movedFixed(name string, m time.Month, day, start int, move weekdayMove) *cal.Holiday {
	return &cal.Holiday{
		Name:      name,
		Type:      cal.ObservancePublic,
		Month:     m,
		Day:       day,
		StartYear: start,
		Func: func(h *cal.Holiday, year int) time.Time {
			d := cal.CalcDayOfMonth(h, year)
			return d.AddDate(0, 0, move[d.Weekday()])
		},
	}
}

// onlyOn is a holiday on day of month m in the years it falls on one of
// days, from start: a day a law adds only when it makes a long weekend.
func onlyOn(name string, m time.Month, day, start int, days ...time.Weekday) *cal.Holiday {
	return &cal.Holiday{
		Name:      name,
		Type:      cal.ObservancePublic,
		Month:     m,
		Day:       day,
		StartYear: start,
		Func: func(h *cal.Holiday, year int) time.Time {
			d := cal.CalcDayOfMonth(h, year)
			for _, wd := range days {
				if d.Weekday() == wd {
					return d
				}
			}
			return time.Time{}
		},
	}
}

// toMonday19668 is Chile's Law 19.668 (2000): a holiday on a Tuesday,
// Wednesday or Thursday moves to the Monday of its week, one on a Friday
// to the Monday after; on a weekend or a Monday it stays.
var toMonday19668 = weekdayMove{time.Tuesday: -1, time.Wednesday: -2, time.Thursday: -3, time.Friday: 3}

// holidaysCL are Chile's national holidays: Law 2.977 and the Labour
// Code's irrenunciable days (1 January, 1 May, 18 and 19 September, 25
// December), Law 19.668's Monday moves of Saints Peter and Paul and the
// Meeting of Two Worlds, Law 20.148 (2007: the Virgin of Carmen instead of
// Corpus Christi), Law 20.215 (2007: 17 September when it is a Monday, 20
// September when it is a Friday), Law 20.299 (2008: the Evangelical and
// Protestant Churches' day, on a Tuesday moved to the Friday before, on a
// Wednesday to the Friday after), Law 20.983 (2017: 17 September when it
// is a Friday, 2 January when it is a Monday) and Law 21.357 (2021: the
// National Day of Indigenous Peoples on the winter solstice). Regional
// holidays (Arica, Chillán) and election days are not here.
var holidaysCL = []*cal.Holiday{
	fixed("Año Nuevo", time.January, 1, 0, nil),
	onlyOn("Feriado del 2 de enero", time.January, 2, 2017, time.Monday),
	easter("Viernes Santo", -2),
	easter("Sábado Santo", -1),
	fixed("Día Nacional del Trabajo", time.May, 1, 0, nil),
	fixed("Día de las Glorias Navales", time.May, 21, 0, nil),
	pueblosIndigenas,
	until(easter("Corpus Christi", 60), 1999),
	until(from(easter("Corpus Christi", 57), 2000), 2006), // the Monday of its week, by Law 19.668
	until(fixed("San Pedro y San Pablo", time.June, 29, 0, nil), 1999),
	movedFixed("San Pedro y San Pablo", time.June, 29, 2000, toMonday19668),
	fixed("Día de la Virgen del Carmen", time.July, 16, 2007, nil),
	fixed("Asunción de la Virgen", time.August, 15, 0, nil),
	onlyOn("Fiestas Patrias", time.September, 17, 2007, time.Monday),
	onlyOn("Fiestas Patrias", time.September, 17, 2017, time.Friday),
	fixed("Independencia Nacional", time.September, 18, 0, nil),
	fixed("Día de las Glorias del Ejército", time.September, 19, 0, nil),
	onlyOn("Fiestas Patrias", time.September, 20, 2007, time.Friday),
	until(fixed("Encuentro de Dos Mundos", time.October, 12, 0, nil), 1999),
	movedFixed("Encuentro de Dos Mundos", time.October, 12, 2000, toMonday19668),
	movedFixed("Día de las Iglesias Evangélicas y Protestantes", time.October, 31, 2008,
		weekdayMove{time.Tuesday: -4, time.Wednesday: 2}),
	fixed("Día de Todos los Santos", time.November, 1, 0, nil),
	fixed("Inmaculada Concepción", time.December, 8, 0, nil),
	fixed("Navidad", time.December, 25, 0, nil),
}

// pueblosIndigenas is Chile's National Day of Indigenous Peoples (Law
// 21.357): the day of the southern winter solstice, read on continental
// Chile's winter clock (UTC-4), from 2021. The law fixed 21 June for
// 2021, its first year, although that solstice fell late on the 20th.
// The solstice's instant is lunar-go's summer solstice solar term (夏至),
// which it gives on Beijing's clock (UTC+8).
var pueblosIndigenas = &cal.Holiday{
	Name:      "Día Nacional de los Pueblos Indígenas",
	Type:      cal.ObservancePublic,
	StartYear: 2021,
	Func: memo(func(year int) time.Time {
		if year == 2021 {
			return time.Date(year, time.June, 21, 0, 0, 0, 0, time.UTC)
		}
		s, ok := calendar.NewSolarFromYmd(year, 6, 1).GetLunar().GetJieQiTable()["夏至"]
		if !ok {
			return time.Time{}
		}
		beijing := time.Date(s.GetYear(), time.Month(s.GetMonth()), s.GetDay(), s.GetHour(), s.GetMinute(), s.GetSecond(), 0, time.UTC)
		y, m, d := beijing.Add(-12 * time.Hour).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}),
}

// holidaysPE are Peru's holidays (Legislative Decree 713, art. 6), with
// those later laws added: the Battle of Ayacucho (Law 31381, from 2022),
// the Battle of Junín (Law 31530, 2022), the Peruvian Air Force's day (Law
// 31822, 2023) and the Battle of Arica and Flag Day (Law 31788, published
// after 7 June 2023, so from 2024). None moves. The non-working days the
// government decrees for the public sector each year are not here.
var holidaysPE = []*cal.Holiday{
	fixed("Año Nuevo", time.January, 1, 0, nil),
	easter("Jueves Santo", -3),
	easter("Viernes Santo", -2),
	fixed("Día del Trabajo", time.May, 1, 0, nil),
	fixed("Batalla de Arica y Día de la Bandera", time.June, 7, 2024, nil),
	fixed("San Pedro y San Pablo", time.June, 29, 0, nil),
	fixed("Día de la Fuerza Aérea del Perú", time.July, 23, 2023, nil),
	fixed("Fiestas Patrias", time.July, 28, 0, nil),
	fixed("Fiestas Patrias", time.July, 29, 0, nil),
	fixed("Batalla de Junín", time.August, 6, 2022, nil),
	fixed("Santa Rosa de Lima", time.August, 30, 0, nil),
	fixed("Combate de Angamos", time.October, 8, 0, nil),
	fixed("Todos los Santos", time.November, 1, 0, nil),
	fixed("Inmaculada Concepción", time.December, 8, 0, nil),
	fixed("Batalla de Ayacucho", time.December, 9, 2022, nil),
	fixed("Navidad del Señor", time.December, 25, 0, nil),
}

// toMonday16805 is Uruguay's Law 16.805 as worded by Law 17.414 (2001): a
// holiday on a Tuesday or Wednesday moves to the Monday before, one on a
// Thursday or Friday to the Monday after; on a weekend or a Monday it
// stays.
var toMonday16805 = weekdayMove{time.Tuesday: -1, time.Wednesday: -2, time.Thursday: 4, time.Friday: 3}

// holidaysUY are Uruguay's feriados, both the five paid non-working ones
// (1 January, 1 May, 18 July, 25 August, 25 December; Law 12.590) and the
// working ones (Decree-Law 14.977 and the laws it lists): Carnival's
// Monday and Tuesday and the whole Tourism Week (Holy Week, Law 6.997)
// stay on their days, as do 6 January, 19 June and 2 November; 19 April,
// 18 May and 12 October move by Law 16.805. 1 March is a paid
// non-working holiday in the years the President takes office (Law 10.396,
// Decree 154/972), every five years since 1985.
var holidaysUY = []*cal.Holiday{
	fixed("Año Nuevo", time.January, 1, 0, nil),
	fixed("Día de Reyes", time.January, 6, 0, nil),
	uyHandover,
	easter("Carnaval", -48),
	easter("Carnaval", -47),
	easter("Semana de Turismo", -6),
	easter("Semana de Turismo", -5),
	easter("Semana de Turismo", -4),
	easter("Semana de Turismo", -3),
	easter("Semana de Turismo", -2),
	easter("Semana de Turismo", -1),
	easter("Semana de Turismo", 0),
	movedFixed("Desembarco de los Treinta y Tres Orientales", time.April, 19, 0, toMonday16805),
	fixed("Día de los Trabajadores", time.May, 1, 0, nil),
	movedFixed("Batalla de Las Piedras", time.May, 18, 0, toMonday16805),
	fixed("Natalicio de Artigas", time.June, 19, 0, nil),
	fixed("Jura de la Constitución", time.July, 18, 0, nil),
	fixed("Declaratoria de la Independencia", time.August, 25, 0, nil),
	movedFixed("Día de la Raza", time.October, 12, 0, toMonday16805),
	fixed("Día de los Difuntos", time.November, 2, 0, nil),
	fixed("Día de la Familia", time.December, 25, 0, nil),
}

// uyHandover is 1 March in the years Uruguay's President takes office.
var uyHandover = &cal.Holiday{
	Name:      "Transmisión del mando presidencial",
	Type:      cal.ObservancePublic,
	StartYear: 1985,
	Month:     time.March,
	Day:       1,
	Func: func(h *cal.Holiday, year int) time.Time {
		if (year-1985)%5 != 0 {
			return time.Time{}
		}
		return cal.CalcDayOfMonth(h, year)
	},
}

// Ecuador's moves (Ley Orgánica Reformatoria a la Ley Orgánica del
// Servicio Público y al Código del Trabajo, Registro Oficial 906 of 20
// December 2016): a holiday on a Saturday is kept the Friday before, one
// on a Sunday the Monday after; one on a Tuesday the Monday before, one on
// a Wednesday or Thursday the Friday of its week. 1 January and 25
// December take only the weekend moves, Carnival none; the Day of the Dead
// and Cuenca's Independence Day (2 and 3 November) move as a pair, so the
// two days stay next to each other.
var (
	ecWeekday = weekdayMove{time.Tuesday: -1, time.Wednesday: 2, time.Thursday: 1, time.Saturday: -1, time.Sunday: 1}
	ecWeekend = weekdayMove{time.Saturday: -1, time.Sunday: 1}
	// ecDifuntos moves 2 November by its own weekday: a Wednesday (with 3
	// November on Thursday) to the Friday, a Saturday to the Friday, a
	// Sunday (with 3 November on Monday) to the Tuesday.
	ecDifuntos = weekdayMove{time.Wednesday: 2, time.Saturday: -1, time.Sunday: 2}
	// ecCuenca moves 3 November by its own weekday: a Wednesday (with 2
	// November on Tuesday) to the Monday, a Saturday (with 2 November on
	// Friday) to the Thursday, a Sunday to the Monday.
	ecCuenca = weekdayMove{time.Wednesday: -2, time.Saturday: -2, time.Sunday: 1}
)

// holidaysEC are Ecuador's national holidays (Labour Code, art. 65, and
// the Organic Law of Public Service, as reformed by the law of December
// 2016, from 2017 on), moved as that law moves them. The days a yearly
// executive decree adds (bridge days around New Year, or an extra day
// before a holiday) and the local holidays of each province and canton
// are not here.
var holidaysEC = []*cal.Holiday{
	movedFixed("Año Nuevo", time.January, 1, 2017, ecWeekend),
	from(easter("Carnaval", -48), 2017),
	from(easter("Carnaval", -47), 2017),
	from(easter("Viernes Santo", -2), 2017),
	movedFixed("Día del Trabajo", time.May, 1, 2017, ecWeekday),
	movedFixed("Batalla de Pichincha", time.May, 24, 2017, ecWeekday),
	movedFixed("Primer Grito de Independencia", time.August, 10, 2017, ecWeekday),
	movedFixed("Independencia de Guayaquil", time.October, 9, 2017, ecWeekday),
	movedFixed("Día de los Difuntos", time.November, 2, 2017, ecDifuntos),
	movedFixed("Independencia de Cuenca", time.November, 3, 2017, ecCuenca),
	movedFixed("Navidad", time.December, 25, 2017, ecWeekend),
}

// holidaysPA are Panama's days of obligatory rest for national feast or
// mourning (Labour Code, art. 46, as reformed by Law 28 of 2015 and Law
// 291 of 2022, which added 20 December from 2022), with the Monday after
// as a rest day when one falls on a Sunday (art. 47). The President's
// inauguration, 1 July every five years since the 2004 constitutional
// reform (2009, 2014, …), is one of them. Changuinola's day of mourning (8
// July) is local; the closures of public offices a decree orders (around
// Carnival, the districts' feasts) bind only the public sector.
var holidaysPA = []*cal.Holiday{
	fixed("Año Nuevo", time.January, 1, 0, sundayToMonday),
	fixed("Día de los Mártires", time.January, 9, 0, sundayToMonday),
	easter("Martes de Carnaval", -47),
	easter("Viernes Santo", -2),
	fixed("Día del Trabajador", time.May, 1, 0, sundayToMonday),
	paInauguration,
	fixed("Separación de Panamá de Colombia", time.November, 3, 0, sundayToMonday),
	fixed("Consolidación de la Separación", time.November, 5, 0, sundayToMonday),
	fixed("Primer Grito de Independencia", time.November, 10, 0, sundayToMonday),
	fixed("Independencia de Panamá de España", time.November, 28, 0, sundayToMonday),
	fixed("Día de las Madres", time.December, 8, 0, sundayToMonday),
	fixed("Día de Duelo Nacional", time.December, 20, 2022, sundayToMonday),
	fixed("Navidad", time.December, 25, 0, sundayToMonday),
}

// paInauguration is 1 July in the years Panama's President takes office.
var paInauguration = &cal.Holiday{
	Name:      "Toma de posesión presidencial",
	Type:      cal.ObservancePublic,
	StartYear: 2009,
	Month:     time.July,
	Day:       1,
	Observed:  sundayToMonday,
	Func: func(h *cal.Holiday, year int) time.Time {
		if (year-2009)%5 != 0 {
			return time.Time{}
		}
		return cal.CalcDayOfMonth(h, year)
	},
}

// toMonday13997 is the Dominican Republic's Law 139-97 (1997): a holiday
// on a Tuesday or Wednesday is kept the Monday before, one on a Thursday
// or Friday the Monday after.
var toMonday13997 = weekdayMove{time.Tuesday: -1, time.Wednesday: -2, time.Thursday: 4, time.Friday: 3}

// holidaysDO are the Dominican Republic's non-working holidays, as the
// Ministry of Labour applies Law 139-97 to them each year: the Epiphany,
// Duarte's birthday, Labour Day and Constitution Day move to a Monday;
// New Year, the Altagracia, Independence Day, Good Friday, Corpus Christi,
// the Restoration (Supreme Court ruling 14 of 2008), Las Mercedes and
// Christmas stay on their days. Labour Day on a Sunday is kept the Monday
// after, as the Ministry has ruled whenever it happened (2016, 2022).
var holidaysDO = []*cal.Holiday{
	fixed("Año Nuevo", time.January, 1, 0, nil),
	movedFixed("Día de los Santos Reyes", time.January, 6, 0, toMonday13997),
	fixed("Día de Nuestra Señora de la Altagracia", time.January, 21, 0, nil),
	movedFixed("Día de Duarte", time.January, 26, 0, toMonday13997),
	fixed("Día de la Independencia", time.February, 27, 0, nil),
	easter("Viernes Santo", -2),
	movedFixed("Día del Trabajo", time.May, 1, 0, weekdayMove{time.Tuesday: -1, time.Wednesday: -2, time.Thursday: 4, time.Friday: 3, time.Sunday: 1}),
	easter("Corpus Christi", 60),
	fixed("Día de la Restauración", time.August, 16, 0, nil),
	fixed("Día de Nuestra Señora de las Mercedes", time.September, 24, 0, nil),
	movedFixed("Día de la Constitución", time.November, 6, 0, toMonday13997),
	fixed("Navidad", time.December, 25, 0, nil),
}

// holidaysSV are El Salvador's paid days of rest (Labour Code, art. 190):
// none moves. Father's Day is one for every worker from 2013, Mother's
// Day from 2016 (Legislative Decree 339; before, for public employees
// only). San Salvador's 3 and 5 August, and each town's main feast day
// elsewhere, are local.
var holidaysSV = []*cal.Holiday{
	fixed("Año Nuevo", time.January, 1, 0, nil),
	easter("Jueves Santo", -3),
	easter("Viernes Santo", -2),
	easter("Sábado Santo", -1),
	fixed("Día del Trabajo", time.May, 1, 0, nil),
	fixed("Día de la Madre", time.May, 10, 2016, nil),
	fixed("Día del Padre", time.June, 17, 2013, nil),
	fixed("Fiestas del Divino Salvador del Mundo", time.August, 6, 0, nil),
	fixed("Día de la Independencia", time.September, 15, 0, nil),
	fixed("Día de los Difuntos", time.November, 2, 0, nil),
	fixed("Navidad", time.December, 25, 0, nil),
}

// dayMoves gives, for some years, the day a law moved a holiday to that
// year, as months and days.
type dayMoves map[int][2]int

// movedIn is a holiday on day of month m, kept from start (0: always), on
// the day moves gives for the years it lists.
func movedIn(name string, m time.Month, day, start int, moves dayMoves) *cal.Holiday {
	return &cal.Holiday{
		Name:      name,
		Type:      cal.ObservancePublic,
		Month:     m,
		Day:       day,
		StartYear: start,
		Func: func(h *cal.Holiday, year int) time.Time {
			if md, ok := moves[year]; ok {
				return time.Date(year, time.Month(md[0]), md[1], 0, 0, 0, 0, cal.DefaultLoc)
			}
			return cal.CalcDayOfMonth(h, year)
		},
	}
}

// holidaysCR are Costa Rica's holidays (Labour Code, art. 148), both those
// of obligatory pay and the three of non-obligatory pay (2 August, 31
// August, 1 December), which are days off all the same. Law 9875 moved
// some to a Monday in 2020-2024, year by year (in 2024 Mother's Day was
// kept on its date after all); Law 10.050 made 31 August a holiday from
// 2022, kept the Sunday after in 2022 and 2023; 1 December is one from
// 2020 (Law 9803). None moves from 2025 on.
var holidaysCR = []*cal.Holiday{
	fixed("Año Nuevo", time.January, 1, 0, nil),
	movedIn("Día de Juan Santamaría", time.April, 11, 0, dayMoves{2023: {4, 10}, 2024: {4, 15}}),
	easter("Jueves Santo", -3),
	easter("Viernes Santo", -2),
	movedIn("Día del Trabajador", time.May, 1, 0, dayMoves{2021: {5, 3}}),
	movedIn("Anexión del Partido de Nicoya", time.July, 25, 0, dayMoves{2020: {7, 27}, 2021: {7, 26}, 2023: {7, 24}, 2024: {7, 29}}),
	fixed("Virgen de los Ángeles", time.August, 2, 0, nil),
	movedIn("Día de la Madre", time.August, 15, 0, dayMoves{2020: {8, 17}, 2023: {8, 14}}),
	movedIn("Día de la Persona Negra y la Cultura Afrocostarricense", time.August, 31, 2022, dayMoves{2022: {9, 4}, 2023: {9, 3}}),
	movedIn("Día de la Independencia", time.September, 15, 0, dayMoves{2020: {9, 14}, 2021: {9, 13}, 2022: {9, 19}}),
	movedIn("Día de la Abolición del Ejército", time.December, 1, 2020, dayMoves{2020: {11, 30}, 2021: {11, 29}, 2022: {12, 5}}),
	fixed("Navidad", time.December, 25, 0, nil),
}

// toMonday192018 is Guatemala's Decree 19-2018 (reforming Decree 42-2010,
// on domestic tourism), applied from 2019: a day off on a Tuesday or
// Wednesday is taken the Monday before, one on a Thursday to Sunday the
// Monday after.
var toMonday192018 = weekdayMove{time.Tuesday: -1, time.Wednesday: -2, time.Thursday: 4, time.Friday: 3, time.Saturday: 2, time.Sunday: 1}

// holidaysGT are Guatemala's whole days off with pay (Labour Code, art.
// 127). Decree 19-2018 moved Labour Day, Army Day and Revolution Day to a
// Monday; since the Constitutional Court's ruling of 16 April 2020 only
// Army Day moves. The afternoons of Holy Wednesday, 24 and 31 December are
// half days, which a whole-day condition cannot express; Mother's Day is
// a day off for mothers only; each town's feast day (15 August in
// Guatemala City) is local.
var holidaysGT = []*cal.Holiday{
	fixed("Año Nuevo", time.January, 1, 0, nil),
	easter("Jueves Santo", -3),
	easter("Viernes Santo", -2),
	easter("Sábado Santo", -1),
	until(fixed("Día del Trabajo", time.May, 1, 0, nil), 2018),
	until(movedFixed("Día del Trabajo", time.May, 1, 2019, toMonday192018), 2019),
	fixed("Día del Trabajo", time.May, 1, 2020, nil),
	until(fixed("Día del Ejército", time.June, 30, 0, nil), 2018),
	movedFixed("Día del Ejército", time.June, 30, 2019, toMonday192018),
	fixed("Día de la Independencia", time.September, 15, 0, nil),
	until(fixed("Día de la Revolución", time.October, 20, 0, nil), 2018),
	until(movedFixed("Día de la Revolución", time.October, 20, 2019, toMonday192018), 2019),
	fixed("Día de la Revolución", time.October, 20, 2020, nil),
	fixed("Día de Todos los Santos", time.November, 1, 0, nil),
	fixed("Navidad", time.December, 25, 0, nil),
}
