import re


def my_parse_citations(answer):
    numbers = []
    for group in re.findall(r"\[([\d,\s]+)\]", answer):  # "[1]", "[1, 3]"; "[1" at the end is not closed
        for n in group.split(","):
            if n.strip() and int(n) not in numbers:
                numbers.append(int(n))
    return numbers


check_parse_citations(my_parse_citations)
