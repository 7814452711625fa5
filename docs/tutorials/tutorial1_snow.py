"""
Softmax is the natural parameterization: the snow example
=========================================================

placeholder
"""

import expfam

print(expfam.softmax([1.0, 2.0]))
