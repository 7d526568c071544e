from arc4._arc4 import random
