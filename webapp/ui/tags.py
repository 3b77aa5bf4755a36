"""(being written)"""

from webapp.ui.scoping import scoped_blueprint

tags = scoped_blueprint("tags", __name__)
