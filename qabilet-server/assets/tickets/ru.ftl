# Лист билетов для входа: по одной карточке для вырезания на каждого ребёнка.
tickets-title = Билеты для входа
ticket-class = Класс
ticket-code = Код
ticket-ticket = Билет
ticket-page = Страница { $page } из { $pages }
ticket-no-children = В этом классе нет детей.
