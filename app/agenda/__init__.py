"""A practitioner's agenda: their days, free slots, absences, and the patients in it.

Above ``appointments`` and ``requests`` (it reads both), so that ``practitioners`` and
``patients`` below need not: the roster knows no appointment, the patient file knows
no agenda. A GP may open the record of a patient they have seen; that question is
asked here, of ``appointments``, and handed down to ``patients``.
"""
