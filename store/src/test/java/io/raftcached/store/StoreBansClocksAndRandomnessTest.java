package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Build check: nothing in the store package may read a clock or draw random numbers, since either
 * would make replicas diverge. It reads the compiled classes' constant pools, so no way of
 * spelling the call in source escapes it.
 */
class StoreBansClocksAndRandomnessTest {
    private static final Set<String> BANNED_CLASSES = Set.of(
            "java/util/Random", "java/util/concurrent/ThreadLocalRandom", "java/security/SecureRandom",
            "java/util/SplittableRandom", "java/util/UUID", "java/util/Date", "java/util/Calendar");
    private static final String BANNED_PACKAGE = "java/time/";
    private static final Set<String> BANNED_METHODS = Set.of(
            "java/lang/System.currentTimeMillis", "java/lang/System.nanoTime", "java/lang/Math.random",
            "java/lang/StrictMath.random");

    @Test
    void storeClassesReferenceNoClockAndNoRandomness() throws Exception {
        Path storeClasses = storeClassesDirectory();
        List<Path> classFiles;
        try (Stream<Path> files = Files.list(storeClasses)) {
            classFiles = files.filter(p -> p.toString().endsWith(".class")).toList();
        }
        assertTrue(classFiles.size() > 10, "expected the store's classes in " + storeClasses);
        List<String> violations = new ArrayList<>();
        for (Path classFile : classFiles) {
            try (InputStream in = Files.newInputStream(classFile)) {
                for (String reference : references(in)) {
                    if (BANNED_CLASSES.contains(reference) || reference.startsWith(BANNED_PACKAGE)
                            || BANNED_METHODS.contains(reference)) {
                        violations.add(classFile.getFileName() + " uses " + reference);
                    }
                }
            }
        }
        assertEquals(List.of(), violations);
    }

    @Test
    void theCheckSeesAClockCall() throws Exception {
        // Proves the parser finds what it looks for: this test class itself calls nanoTime.
        long ignored = System.nanoTime();
        Path self = Path.of(getClass().getResource(getClass().getSimpleName() + ".class").toURI());
        try (InputStream in = Files.newInputStream(self)) {
            assertTrue(references(in).contains("java/lang/System.nanoTime"), "parser missed a nanoTime call " + ignored);
        }
    }

    private static Path storeClassesDirectory() throws URISyntaxException {
        return Path.of(Store.class.getResource("Store.class").toURI()).getParent();
    }

    /** Class names and "owner.method" names referenced from a class file's constant pool. */
    static List<String> references(InputStream classFile) throws IOException {
        DataInputStream in = new DataInputStream(classFile);
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        in.readUnsignedShort();
        in.readUnsignedShort();
        int count = in.readUnsignedShort();
        String[] utf8 = new String[count];
        int[] classNameIndex = new int[count];
        int[][] memberRef = new int[count][];
        int[] nameAndTypeName = new int[count];
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> utf8[i] = in.readUTF();
                case 7 -> classNameIndex[i] = in.readUnsignedShort();
                case 8, 16, 19, 20 -> in.readUnsignedShort();
                case 9, 10, 11 -> memberRef[i] = new int[] {in.readUnsignedShort(), in.readUnsignedShort()};
                case 12 -> {
                    nameAndTypeName[i] = in.readUnsignedShort();
                    in.readUnsignedShort();
                }
                case 3, 4 -> in.readInt();
                case 5, 6 -> {
                    in.readLong();
                    i++;   // longs and doubles take two slots
                }
                case 15 -> {
                    in.readUnsignedByte();
                    in.readUnsignedShort();
                }
                case 17, 18 -> {
                    in.readUnsignedShort();
                    in.readUnsignedShort();
                }
                default -> throw new IOException("unknown constant pool tag " + tag);
            }
        }
        List<String> references = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            if (classNameIndex[i] != 0) {
                references.add(utf8[classNameIndex[i]]);
            }
            if (memberRef[i] != null) {
                String owner = utf8[classNameIndex[memberRef[i][0]]];
                references.add(owner + "." + utf8[nameAndTypeName[memberRef[i][1]]]);
            }
        }
        return references;
    }
}
