"""The one upload size limit, in the unit every part of the app counts it in.

Streamlit's uploader takes the limit in megabytes; its browser side counts a megabyte as 1,000,000 bytes
(1,048,576 on Windows) and its server (`server.maxUploadSize` in .streamlit/config.toml) as 1,048,576. The
app states and checks the limit as 10 MB = 10,000,000 bytes: the strictest of these, so a file the page
accepts is never refused by the browser or the server, and a file the app refuses gets the app's own message.
"""

UPLOAD_LIMIT_MB = 10  # the page text, every st.file_uploader(max_upload_size=…) and server.maxUploadSize
UPLOAD_LIMIT_BYTES = UPLOAD_LIMIT_MB * 1_000_000  # what open_image and checkpoint.load_bytes check
