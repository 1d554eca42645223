# Кіру билеттерінің парағы: әр балаға бір қиылатын карточка.
tickets-title = Кіру билеттері
ticket-class = Сынып
ticket-code = Код
ticket-ticket = Билет
ticket-page = { $pages } беттің { $page }-беті
ticket-no-children = Бұл сыныпта бала жоқ.
