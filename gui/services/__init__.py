"""Qt-free application services of the desk: typed requests and results, and the background job
bodies that turn one into the other (``run(request, *, stop, progress) -> result``).

They may use :mod:`gui.map_page` (HTML/GeoJSON building) but never Qt; progress messages are
stage keys (see ``STAGES`` in each module) that the controllers translate.
"""
