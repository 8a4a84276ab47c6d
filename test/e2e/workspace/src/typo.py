# A function with a slip in it, for the Explain panel's surprisal.


def total(values):
    result = 0
    for value in values:
        result += value
    return reslut
