package io.raftcached.node;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The credentials of {@code -Y <file>}, read as memcached's authfile.c reads them: lines
 * {@code user:password}, the user up to the first ':', the password up to '\r', '\n' or the end;
 * at most {@link #ENTRIES_MAX} entries, each read in chunks of at most {@link #CHUNK_MAX_BYTES}
 * (fgets into 256 bytes): what lies beyond either limit is ignored, silently in memcached, with a
 * warning here. A line without ':' (an empty line too) makes the whole file malformed. The last
 * line needs no newline (memcached 1.6.18 dropped its last character then; later 1.6 fixed that).
 * A reload (SIGHUP) that fails keeps the credentials loaded before.
 */
final class AuthFile {
    private static final Logger LOG = LoggerFactory.getLogger(AuthFile.class);
    /** memcached's MAX_ENTRIES: "not supposed to be a huge database". */
    static final int ENTRIES_MAX = 8;
    /** fgets into memcached's MAX_ENTRY_LEN (256) bytes reads at most 255. */
    static final int CHUNK_MAX_BYTES = 255;
    /** More than the entries can use (to see that some were left out): the file is never read whole. */
    private static final int READ_MAX_BYTES = ENTRIES_MAX * CHUNK_MAX_BYTES + 1;

    record Entry(byte[] user, byte[] password) { }

    /** A file that cannot be loaded, with memcached's message for it. */
    static final class LoadException extends IOException {
        LoadException(String message) {
            super(message);
        }
    }

    private final Path path;
    private volatile List<Entry> entries;

    private AuthFile(Path path, List<Entry> entries) {
        this.path = path;
        this.entries = entries;
    }

    /** Loads the file at start-up; memcached refuses to start on any failure, with these messages. */
    static AuthFile load(Path path) throws LoadException {
        return new AuthFile(path, read(path));
    }

    Path path() {
        return path;
    }

    /** The first entry (the one a probe logs in with), or null when the file has none. */
    Entry first() {
        List<Entry> loaded = entries;
        return loaded.isEmpty() ? null : loaded.get(0);
    }

    /** Reads the file again (SIGHUP); on failure the previous credentials stay and the reason is logged. */
    void reload() {
        try {
            List<Entry> loaded = read(path);
            entries = loaded;
            LOG.info("SIGHUP: reloaded the auth file {} ({} entries)", path, loaded.size());
        } catch (LoadException e) {
            LOG.warn("SIGHUP: keeping the credentials loaded before: {}", e.getMessage());
        }
    }

    /**
     * Whether user and password match an entry. Every entry is compared, each in time independent
     * of where the bytes differ, so the reply time tells nothing about which part was wrong.
     */
    boolean check(byte[] user, byte[] password) {
        boolean matched = false;
        for (Entry entry : entries) {
            boolean userEqual = MessageDigest.isEqual(user, entry.user());
            boolean passwordEqual = MessageDigest.isEqual(password, entry.password());
            matched |= userEqual & passwordEqual;
        }
        return matched;
    }

    private static List<Entry> read(Path path) throws LoadException {
        byte[] data;
        try (InputStream in = Files.newInputStream(path)) {
            data = in.readNBytes(READ_MAX_BYTES);
        } catch (NoSuchFileException e) {
            throw openFailure(path, "No such file or directory");
        } catch (AccessDeniedException e) {
            throw openFailure(path, "Permission denied");
        } catch (IOException e) {
            throw openFailure(path, Files.isDirectory(path) ? "Is a directory" : String.valueOf(e.getMessage()));
        }
        return parse(path, data);
    }

    /** memcached's vperror: the message, then strerror once more. */
    private static LoadException openFailure(Path path, String reason) {
        return new LoadException("Could not open authfile [" + path + "] for reading, error " + reason + ": " + reason);
    }

    /** authfile_load's loop: fgets chunks, scanned for ':' then for the password's end. */
    static List<Entry> parse(Path path, byte[] data) throws LoadException {
        List<Entry> entries = new ArrayList<>();
        int chunkStart = 0;
        while (chunkStart < data.length) {
            int chunkEnd = chunkEnd(data, chunkStart);
            int colon = -1;
            int x = chunkStart;
            for (; ; x++) {
                byte b = x < chunkEnd ? data[x] : 0;   // fgets ends the chunk with a NUL
                if (colon < 0) {
                    if (b == 0) {
                        throw new LoadException("Authfile [" + path + "] has a malformed entry. Should be 'user:password'");
                    }
                    if (b == ':') {
                        colon = x;
                    }
                } else if (b == '\n' || b == '\r' || b == 0) {
                    break;
                }
            }
            entries.add(new Entry(Arrays.copyOfRange(data, chunkStart, colon), Arrays.copyOfRange(data, colon + 1, x)));
            if (entries.size() == ENTRIES_MAX || x == chunkEnd || data[x] == 0) {
                // memcached stops at its limit, at a line cut by its chunk size, or at a NUL byte
                if (chunkEnd < data.length || x < chunkEnd && data[x] == 0) {
                    LOG.warn("auth file {}: only its first {} entries are used, up to byte {} (memcached's limits: {}"
                            + " entries, {} bytes a line)", path, entries.size(), x, ENTRIES_MAX, CHUNK_MAX_BYTES);
                }
                break;
            }
            chunkStart = chunkEnd;
        }
        return entries;
    }

    /** Where fgets stops: after a newline, or after {@link #CHUNK_MAX_BYTES}, or at the end. */
    private static int chunkEnd(byte[] data, int start) {
        int limit = Math.min(data.length, start + CHUNK_MAX_BYTES);
        for (int i = start; i < limit; i++) {
            if (data[i] == '\n') {
                return i + 1;
            }
        }
        return limit;
    }
}
