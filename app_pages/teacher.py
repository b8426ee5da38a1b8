"""The teacher's page: behind the teacher password, the class, its hand-ins, the experiment board and settings."""

from lib.ui.frame import frame
from lib.ui.teacher import login, render_teacher

f = frame("teacher.page", attach=False)  # the teacher's session is nobody's workspace
if login(f):
    render_teacher(f)
