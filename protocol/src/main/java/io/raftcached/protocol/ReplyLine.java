package io.raftcached.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/** The constant reply lines of memcached 1.6.18, each written with its "\r\n". */
public enum ReplyLine {
    STORED, NOT_STORED, EXISTS, NOT_FOUND, DELETED, TOUCHED, OK, END, ERROR, RESET,
    /** Meta no-op. */
    MN,
    /** Meta miss (mg without q, me). */
    EN;

    private final byte[] bytes = (name() + "\r\n").getBytes(StandardCharsets.US_ASCII);

    /** Appends the line and "\r\n" to {@code out}. */
    public void writeTo(ByteBuf out) {
        out.writeBytes(bytes);
    }

    /** Length in bytes, "\r\n" included. */
    public int length() {
        return bytes.length;
    }
}
