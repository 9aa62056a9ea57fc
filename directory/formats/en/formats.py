# Day, month, year: read the same way in every English-speaking country (Django's default is US "N j, Y").
DATE_FORMAT = "j F Y"
