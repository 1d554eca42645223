# The sign-in ticket sheets: one cut-out card per child.
tickets-title = Sign-in tickets
ticket-class = Class
ticket-code = Code
ticket-ticket = Ticket
ticket-page = Page { $page } of { $pages }
ticket-no-children = No children in this class.
